// Runs a CLI entry point: in a checkout (src/ present) the TypeScript sources through tsx, so there
// is never a stale build; an installed package or the container image runs the compiled dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `entry` is the module's path under src/ and dist/ without its extension, e.g. `cli/main`. */
export async function runEntry(entry) {
  const source = join(root, 'src', `${entry}.ts`);
  if (existsSync(source) && process.env.FERRY_USE_DIST !== '1') {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  } else {
    await import(pathToFileURL(join(root, 'dist', `${entry}.js`)).href);
  }
}
