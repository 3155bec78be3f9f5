# Ferry: the controller and the sync Jobs run this one image (`ferry controller`, `ferry job`).
#   docker build -t ghcr.io/ferry-dev/ferry:0.1.0 .
# Base images are pinned by full version tag; bump them together (test/unit/delivery/dockerfile.test.ts).

# ---- build: install everything, compile TypeScript to dist/ and bundle it, then drop the dev dependencies
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build bundles dist/ (dist/bundle/, which bin/entry.mjs runs: a shorter start-up).
COPY scripts/bundle-dist.mjs ./scripts/
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# ---- runtime: Node LTS slim, no compiler, no npm cache, non-root
FROM node:24.11.1-bookworm-slim
LABEL org.opencontainers.image.title="ferry" \
      org.opencontainers.image.description="Kubernetes operator that keeps business systems in sync" \
      org.opencontainers.image.source="https://github.com/ferry-dev/ferry" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 ferry \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ferry
WORKDIR /app
# FERRY_USE_DIST: bin/ferry.mjs runs the compiled dist/, never TypeScript sources.
ENV NODE_ENV=production FERRY_USE_DIST=1 HOME=/tmp
# Owned by root and read-only to the ferry user: the process cannot change its own code.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/ferry.mjs bin/entry.mjs bin/heap-limit.mjs bin/module-format-cache.mjs ./bin/
COPY drizzle ./drizzle
COPY crds ./crds
RUN ln -s /app/bin/ferry.mjs /usr/local/bin/ferry
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["ferry"]
CMD ["--help"]
