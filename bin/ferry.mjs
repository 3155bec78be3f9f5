#!/usr/bin/env node
import { endWithParent, heapLimitMiB, relaunchWithHeapLimit } from './heap-limit.mjs';

const heap = heapLimitMiB(process.argv[2]);
if (heap !== undefined) {
  // V8 sizes its heap when it starts: run this command again in a node with the limit set. The
  // launcher loads nothing else, so it adds ~30 ms of CPU to the start-up.
  relaunchWithHeapLimit(heap);
} else {
  endWithParent();
  const [{ cacheModuleFormats }, { runEntry }] = await Promise.all([import('./module-format-cache.mjs'), import('./entry.mjs')]);
  cacheModuleFormats();
  await runEntry('cli/main');
}
