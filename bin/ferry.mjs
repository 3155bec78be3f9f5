#!/usr/bin/env node
import { runEntry } from './entry.mjs';
import { endWithParent, heapLimitMiB, relaunchWithHeapLimit } from './heap-limit.mjs';
import { cacheModuleFormats } from './module-format-cache.mjs';

const heap = heapLimitMiB(process.argv[2]);
if (heap !== undefined) {
  // V8 sizes its heap when it starts: run this command again in a node with the limit set.
  relaunchWithHeapLimit(heap);
} else {
  endWithParent();
  cacheModuleFormats();
  await runEntry('cli/main');
}
