// `ferry run` and `ferry job` size V8's heap from the memory they are given, so their footprint is a
// property of Ferry and not of how much head-room V8 grants itself on a given machine. The budget is
// FERRY_MEMORY_LIMIT (bytes, or a quantity such as 512Mi), else the cgroup's memory limit; the heap
// gets 75% of it (buffers, sockets and native memory need the rest). An explicit
// --max-old-space-size in NODE_OPTIONS or on the node command line always wins.
// The young generation is pinned too: newer V8 (Node 24) grows it to 3 x 64 MiB on top of the old
// space, which would put the heap past the budget.
import { readFileSync } from 'node:fs';

const UNITS = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

function quantityBytes(text) {
  const match = /^(\d+(?:\.\d+)?)(|k|M|G|Ki|Mi|Gi)$/.exec(String(text ?? '').trim());
  return match ? Number(match[1]) * UNITS[match[2]] : undefined;
}

function cgroupLimitBytes() {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const bytes = quantityBytes(readFileSync(file, 'utf8'));
      // cgroup v1 reports "no limit" as a huge number.
      if (bytes !== undefined && bytes < 2 ** 50) return bytes;
    } catch {
      // not in a cgroup with a memory controller
    }
  }
  return undefined;
}

/** V8's flags for a heap of `mib` MiB of old space and a young generation of 3 x 16 MiB. */
export function heapFlags(mib) {
  return [`--max-old-space-size=${mib}`, '--max-semi-space-size=16'];
}

/** The --max-old-space-size (MiB) this process should run with, or undefined to leave V8 alone. */
export function heapLimitMiB(command, env = process.env, execArgv = process.execArgv) {
  if (command !== 'run' && command !== 'job') return undefined;
  const explicit = /--max-old-space-size/;
  if (explicit.test(env.NODE_OPTIONS ?? '') || execArgv.some((a) => explicit.test(a))) return undefined;
  const budget = quantityBytes(env.FERRY_MEMORY_LIMIT) ?? cgroupLimitBytes();
  return budget === undefined ? undefined : Math.max(128, Math.floor((budget * 0.75) / 1024 ** 2));
}
