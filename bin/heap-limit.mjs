// `ferry run` and `ferry job` size V8's heap from the memory they are given, so their footprint is a
// property of Ferry and not of how much head-room V8 grants itself on a given machine. The budget is
// FERRY_MEMORY_LIMIT (bytes, or a quantity such as 512Mi), else the cgroup's memory limit, else
// DEFAULT_BUDGET; the heap gets 75% of it (buffers, sockets and native memory need the rest). An
// explicit --max-old-space-size in NODE_OPTIONS or on the node command line always wins.
// The young generation is pinned too: newer V8 (Node 24) grows it to 3 x 64 MiB on top of the old
// space, which would put the heap past the budget.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';

const UNITS = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/**
 * The budget when none is known (a laptop, CI). Without one V8 lets a file import reach 420-530 MB of
 * RSS, garbage it has not collected yet. With the young generation pinned, the old space's size moves
 * the peak little and the CPU not measurably (100k rows: 235-267 MB at 400Mi, 243 MB at 512Mi, 264-273
 * MB at 1Gi, each ~1.1x the CPU of no budget; 1M rows: 230 MB at 400Mi, 244 MB at 1Gi). 512Mi stays
 * below the 300 MB aim with some margin and leaves a heap of 384 MiB for a run whose live data is
 * large (a day-2 Full of 1M rows peaks at ~480 MB of RSS under 400Mi): a heap too small ends the run.
 */
export const DEFAULT_BUDGET = '512Mi';

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

/*
 * Why the file import runs so many major GCs (1M rows: 76 mark-compacts, one per ~25 MB promoted):
 * V8 lets the old generation grow to its live size times a factor that an old space below 2 GiB caps
 * at 1.3-2.0 (1.35 at 384 MiB; 4 from 2 GiB on, hence 420-530 MB RSS without a budget). The live heap
 * is ~25 MB of code and modules plus the rows of ~4 batches in flight, which outlive two scavenges
 * and are promoted (~480 B per row). Measured on 2026-12-01 and not adopted: --heap-growing-percent
 * =60/100 cut the mark-compacts from 11 to 8/5 at 100k rows but add ~20/~35 MB of RSS;
 * --single-threaded-gc saved CPU at 100k but let the heap reach 267-277 MB; --minor-ms (1M, once,
 * together with that day's engine changes): 14.4 s CPU and 230 MB against 17.6 s and 250 MB before
 * both, the same wall time; at 100k no difference showed.
 */

/**
 * V8's flags for a heap of `mib` MiB of old space and a young generation of 3 x 16 MiB. A young
 * generation of 32 MiB semi-spaces costs 30-40 MB more peak RSS and, since the file import allocates
 * less, no longer saves CPU: 1M-row first import 13.8-14.1 s CPU at 32 against 13.2-14.9 s at 16,
 * 267-273 against 234-237 MB (bench/README.md, row f, 2026-12-01 16:22-16:29).
 */
export function heapFlags(mib) {
  return [`--max-old-space-size=${mib}`, '--max-semi-space-size=16', ...externalMemoryFlags()];
}

const EXTERNAL_MEMORY_FLAG = 'external-memory-accounted-in-global-limit';

/*
 * V8 13 (Node 24) by default counts the external memory (Buffers' backing stores) allocated since its
 * last mark-compact towards the old generation's limit, as if it were promoted objects ("historic
 * behavior", Heap::OldGenerationSpaceAvailable), and starts marking once that sum comes within the
 * young generation's size (16 MiB) of the limit: with ~30 MB live, after ~10 MB of promotions and new
 * Buffers together. A file import streams ~150 MB of short-lived Buffers per 1M rows through ssh2,
 * openpgp, zlib and fs streams before it reads a row, while V8's heap stays flat: a mark-compact every
 * ~60 ms there (~16 of ~64 per 1M rows), and in the rows' phase the read pieces and COPY data took a
 * third of the room. This flag (not a heap size: which limit external memory counts towards) gives
 * external memory its own share of V8's global limit instead. 300k rows (2026-12-02, load 3.8-5.2):
 * 13-15 mark-compacts against 20-21, the decoding's 6 down to 1, peak RSS +13 MB (198-200 MB).
 * node refuses an unknown V8 flag (exit 9), and V8 renames or drops such internal flags between
 * majors: only on V8 13, where the tests check that node starts with it. Re-check on the next major.
 */
export function externalMemoryFlags(v8Version = process.versions.v8, nodeOptions = process.env.NODE_OPTIONS ?? '', execArgv = process.execArgv) {
  if (Number(v8Version.split('.')[0]) !== 13) return [];
  // A choice on the command line (either way) stays the one made.
  if (nodeOptions.includes(EXTERNAL_MEMORY_FLAG) || execArgv.some((a) => a.includes(EXTERNAL_MEMORY_FLAG))) return [];
  return [`--${EXTERNAL_MEMORY_FLAG}`];
}

/** This process can run itself again with other node flags and stay the same process (see below). */
const replaceable = typeof process.execve === 'function' && process.pid !== 1;

/**
 * The --max-old-space-size (MiB) this process should run with, or undefined to leave V8 alone.
 * The default budget applies only where the relaunch keeps the process (or is a container's PID 1):
 * elsewhere (Node 20) only a budget that is known relaunches, as before.
 */
export function heapLimitMiB(command, env = process.env, execArgv = process.execArgv, known = {}) {
  const cgroupBytes = known.cgroupBytes ?? cgroupLimitBytes;
  const defaultBudget = 'defaultBudget' in known ? known.defaultBudget : replaceable || process.pid === 1 ? DEFAULT_BUDGET : undefined;
  if (command !== 'run' && command !== 'job') return undefined;
  const explicit = /--max-old-space-size/;
  if (explicit.test(env.NODE_OPTIONS ?? '') || execArgv.some((a) => explicit.test(a))) return undefined;
  const budget = quantityBytes(env.FERRY_MEMORY_LIMIT) ?? cgroupBytes() ?? quantityBytes(defaultBudget);
  return budget === undefined ? undefined : Math.max(128, Math.floor((budget * 0.75) / 1024 ** 2));
}

const PARENT_PIPE = 'FERRY_PARENT_PIPE';

/** In a child started by relaunchWithHeapLimit: end at once (SIGKILL) when the parent is gone. */
export function endWithParent() {
  const fd = Number(process.env[PARENT_PIPE]);
  if (!fd) return;
  delete process.env[PARENT_PIPE];
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.on('close', () => process.kill(process.pid, 'SIGKILL'));
  pipe.on('error', () => process.kill(process.pid, 'SIGKILL'));
  pipe.resume();
  pipe.unref();
}

/**
 * Runs this command again in a node whose heap is `mib` MiB (V8 sizes its heap when it starts).
 * Where it can, the process replaces itself (execve): the same process, so a SIGKILL of it, a
 * failpoint's SIGKILL of itself, signals, exit codes and stdio stay exactly what they were.
 * Otherwise (Node before 22.15, or PID 1 of a container, which the kernel shields from signals it
 * has no handler for) a child runs the command and this process passes signals on; when the child
 * ends by a signal, this process ends by it too (PID 1: exits 128 + its number, as a shell reports it).
 */
export function relaunchWithHeapLimit(mib, { inPlace = replaceable } = {}) {
  const args = [...heapFlags(mib), ...process.execArgv, ...process.argv.slice(1)];
  if (inPlace) {
    try {
      // Its ExperimentalWarning is printed on the next tick, which never comes in this process.
      process.execve(process.execPath, [process.execPath, ...args], process.env);
    } catch {
      // execve(2) failed (E2BIG, ENOMEM, ...) and this process goes on unchanged: run a child.
    }
  }
  // fd 3: a pipe the child watches, to end itself when this process is gone (even by SIGKILL).
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: { ...process.env, [PARENT_PIPE]: '3' } });
  const forward = (signal) => child.kill(signal);
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    if (signal && process.pid !== 1) {
      for (const s of signals) process.off(s, forward);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
  });
}
