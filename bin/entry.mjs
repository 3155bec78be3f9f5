// Runs a CLI entry point: in a checkout (src/ present) the TypeScript sources through tsx, so there
// is never a stale build; an installed package or the container image runs the compiled dist/, as
// bundled by `npm run build` into dist/bundle/ (scripts/bundle-dist.mjs: ~0.3 s less start-up) when
// that is there, else tsc's modules as they are.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundle exists and was made after tsc wrote its input (a later bare `tsc` leaves it stale). */
function isNewer(bundled, compiled) {
  const stat = (path) => statSync(path, { throwIfNoEntry: false });
  const bundle = stat(bundled);
  return bundle !== undefined && bundle.mtimeMs >= (stat(compiled)?.mtimeMs ?? 0);
}

/** `entry` is the module's path under src/ and dist/ without its extension, e.g. `cli/main`. */
export async function runEntry(entry) {
  const source = join(root, 'src', `${entry}.ts`);
  if (existsSync(source) && process.env.FERRY_USE_DIST !== '1') {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  } else {
    const compiled = join(root, 'dist', `${entry}.js`);
    const bundled = join(root, 'dist', 'bundle', `${entry}.js`);
    await import(pathToFileURL(isNewer(bundled, compiled) ? bundled : compiled).href);
  }
}
