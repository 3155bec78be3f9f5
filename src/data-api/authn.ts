import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import type { RequestHeaderConfig } from './delegation.js';
import { TtlCache } from './ttl-cache.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export type Authentication = { user: UserInfo; via: 'front-proxy' | 'token' } | { error: string };

/** Checks a bearer token; the production one is a TokenReview. */
export type TokenReviewer = (token: string) => Promise<UserInfo | undefined>;

function headerValues(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/**
 * The user the API server vouches for. Only a connection whose client certificate chains to the
 * request-header CA (and has an allowed common name) may set identity headers: the server is
 * reachable directly, so headers on any other connection are ignored.
 */
export function frontProxyUser(req: IncomingMessage, config: RequestHeaderConfig): Authentication | undefined {
  const socket = req.socket as TLSSocket;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) return { error: `client certificate not accepted: ${String(socket.authorizationError ?? 'not signed by the request-header CA')}` };
  const cn = cert.subject?.CN;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  if (config.allowedNames.length > 0 && !config.allowedNames.includes(commonName ?? '')) {
    return { error: `client certificate CN "${commonName ?? ''}" is not an allowed front-proxy name` };
  }
  const name = config.usernameHeaders.map((h) => req.headersDistinct[h]?.[0]).find((v) => v);
  if (!name) return { error: 'front-proxy request without a user header' };
  const groups = config.groupHeaders.flatMap((h) => headerValues(req, h));
  const extra: Record<string, string[]> = {};
  for (const header of Object.keys(req.headers)) {
    const prefix = config.extraHeaderPrefixes.find((p) => header.startsWith(p));
    if (!prefix) continue;
    const key = decodeURIComponent(header.slice(prefix.length));
    extra[key] = [...(extra[key] ?? []), ...headerValues(req, header)];
  }
  return { user: { name, groups, extra }, via: 'front-proxy' };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** TokenReview through the API server, cached for a few seconds by the token's hash (never the token). */
export function tokenReviewer(config: k8s.KubeConfig, ttlMs = 10_000): TokenReviewer {
  const api = config.makeApiClient(k8s.AuthenticationV1Api);
  const cache = new TtlCache<UserInfo | null>(ttlMs, 10_000);
  return async (token) => {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const review = await api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    const status = review.status;
    const user: UserInfo | null =
      status?.authenticated && status.user?.username
        ? { name: status.user.username, ...(status.user.uid ? { uid: status.user.uid } : {}), groups: status.user.groups ?? [], extra: status.user.extra ?? {} }
        : null;
    cache.set(key, user);
    return user ?? undefined;
  };
}

/**
 * Every authenticated user is in system:authenticated, as kube's delegating authenticator makes it
 * (AuthenticatedGroupAdder). The aggregator fetches /openapi/v2 as `system:aggregator` with no
 * groups, and only system:authenticated lets it read the document (the system:discovery role).
 */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.name === 'system:anonymous' || user.groups.some((g) => g === 'system:authenticated' || g === 'system:unauthenticated')) return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}

export async function authenticate(req: IncomingMessage, config: RequestHeaderConfig, reviewToken: TokenReviewer): Promise<Authentication> {
  const proxied = frontProxyUser(req, config);
  if (proxied && 'user' in proxied) return { ...proxied, user: withAuthenticatedGroup(proxied.user) };
  const token = bearerToken(req);
  if (token) {
    const user = await reviewToken(token);
    return user ? { user: withAuthenticatedGroup(user), via: 'token' } : { error: 'invalid bearer token' };
  }
  return proxied ?? { error: 'no front-proxy client certificate and no bearer token' };
}
