// Node 24 reads and deserialises the nearest package.json again for every ES module it resolves,
// to learn the module format from its "type". drizzle-orm's package.json is 180 KB (447 exports),
// and a `ferry run` resolves ~430 of its files: about 0.7 s of CPU and 200 MB of garbage before
// anything runs. The format of a .js file depends only on its directory (the nearest package.json),
// so a relative .js import inside node_modules whose directory already resolved as an ES module is
// answered from this cache; everything else goes through Node's own resolution.
import { realpathSync } from 'node:fs';
// A namespace import: a named import of registerHooks (Node >= 22.15) fails to link on Node 20.
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const directoryOf = (url) => url.slice(0, url.lastIndexOf('/') + 1);

/** The file exists and its path has no symbolic link (Node would resolve it to another URL). */
function isRealFile(path) {
  try {
    return realpathSync.native(path) === path;
  } catch {
    return false;
  }
}

/** Registers the cache for this process (synchronous, in-thread module hooks). */
export function cacheModuleFormats() {
  const { registerHooks } = nodeModule;
  if (typeof registerHooks !== 'function') return;
  const esmDirectories = new Set();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent?.startsWith('file:') && parent.includes('/node_modules/') && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js')) {
        const url = new URL(specifier, parent).href;
        if (esmDirectories.has(directoryOf(url)) && isRealFile(fileURLToPath(url))) return { url, format: 'module', shortCircuit: true };
      }
      const resolved = nextResolve(specifier, context);
      if (resolved.format === 'module' && resolved.url.startsWith('file:') && resolved.url.endsWith('.js')) esmDirectories.add(directoryOf(resolved.url));
      return resolved;
    },
  });
}
