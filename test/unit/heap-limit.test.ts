import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module of the launcher, without type declarations
import { DEFAULT_BUDGET, externalMemoryFlags, heapFlags, heapLimitMiB } from '../../bin/heap-limit.mjs';

type Known = { cgroupBytes?: () => number | undefined; defaultBudget?: string };
const limit = heapLimitMiB as (command: string, env?: Record<string, string>, execArgv?: string[], known?: Known) => number | undefined;
const noCgroup = { cgroupBytes: () => undefined };

const FERRY = join(__dirname, '../../bin/ferry.mjs');
const HEAP_LIMIT = pathToFileURL(join(__dirname, '../../bin/heap-limit.mjs')).href;
const canReplaceItself = typeof (process as { execve?: unknown }).execve === 'function';

/** A module for NODE_OPTIONS=--import: `script` runs in every node of the command, the launcher's too. */
function preload(script: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-heap-')), 'probe.mjs');
  // Only the main thread: a module loader's worker thread would run it too.
  writeFileSync(file, `import v8 from 'node:v8';\nimport { isMainThread } from 'node:worker_threads';\nconst limited = isMainThread && process.execArgv.some((a) => a.startsWith('--max-old-space-size'));\n${script}\n`);
  return file;
}

const printPidAndLimit = `if (isMainThread) console.log('probe', process.pid, Math.round(v8.getHeapStatistics().heap_size_limit / 1024 ** 2));`;

/** Spawns `node args`, resolves with how it ended and its stdout. */
function run(args: string[], env: Record<string, string | undefined>, onStdout?: (text: string, pid: number) => void) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout?.(stdout, child.pid!);
  });
  return new Promise<{ pid: number; code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ pid: child.pid!, code, signal, stdout })),
  );
}

/** The process exists and is not a zombie (an orphan's is reaped by whoever adopted it, maybe late). */
const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('the heap limit ferry run and ferry job set for themselves', () => {
  it('gives V8 75% of the memory budget, for run and job only', () => {
    expect(limit('run', { FERRY_MEMORY_LIMIT: '400Mi' }, [])).toBe(300);
    expect(limit('job', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBe(768);
    expect(limit('job', { FERRY_MEMORY_LIMIT: '536870912' }, [])).toBe(384);
    expect(limit('controller', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBeUndefined();
    expect(limit('validate', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBeUndefined();
  });

  it('takes the cgroup limit, else the default budget, when FERRY_MEMORY_LIMIT is not set', () => {
    expect(limit('run', {}, [], { cgroupBytes: () => 2 * 1024 ** 3 })).toBe(1536);
    expect(limit('run', {}, [], { ...noCgroup, defaultBudget: '400Mi' })).toBe(300);
    expect(limit('job', {}, [], { ...noCgroup, defaultBudget: '1Gi' })).toBe(768);
    // Where the relaunch cannot keep the process (Node 20), no budget means no relaunch.
    expect(limit('run', {}, [], { ...noCgroup, defaultBudget: undefined })).toBeUndefined();
    expect(DEFAULT_BUDGET).toBe('512Mi');
  });

  it('never overrides an explicit --max-old-space-size', () => {
    expect(limit('run', { FERRY_MEMORY_LIMIT: '1Gi', NODE_OPTIONS: '--max-old-space-size=2048' }, [])).toBeUndefined();
    expect(limit('run', { FERRY_MEMORY_LIMIT: '1Gi' }, ['--max-old-space-size=100'])).toBeUndefined();
    expect(limit('run', {}, ['--max-old-space-size=100'], { ...noCgroup, defaultBudget: '400Mi' })).toBeUndefined();
  });

  it('counts external memory towards the global limit of V8 13, not its old generation (only on the V8 major where node is known to take the flag; a choice made on the command line stays)', () => {
    const flags = externalMemoryFlags as (v8Version?: string, nodeOptions?: string, execArgv?: string[]) => string[];
    expect(flags('13.6.233.17-node.63', '', [])).toEqual(['--external-memory-accounted-in-global-limit']);
    expect(flags('12.4.254.21-node.33', '', [])).toEqual([]);
    expect(flags('14.1.146.11-node.10', '', [])).toEqual([]);
    expect(flags('13.6.233.17-node.63', '--no-external-memory-accounted-in-global-limit', [])).toEqual([]);
    expect(flags('13.6.233.17-node.63', '', ['--external-memory-accounted-in-global-limit'])).toEqual([]);
    // This node accepts every flag the relaunch would give it (node refuses an unknown V8 flag and exits 9).
    const started = spawnSync(process.execPath, [...(heapFlags as (mib: number) => string[])(200), '-e', '0'], { encoding: 'utf8' });
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
  });

  it('runs the command again in a node whose heap is limited', () => {
    // The preloaded probe prints each node's heap limit: the launcher's (V8's default) and the relaunched command's.
    const ferry = spawnSync(process.execPath, [FERRY, 'run', '--help'], {
      encoding: 'utf8',
      env: { ...process.env, FERRY_MEMORY_LIMIT: '400Mi', NODE_OPTIONS: `--import=${preload(printPidAndLimit)}` },
    });
    expect(ferry.status).toBe(0);
    expect(ferry.stdout).toContain('Usage: ferry run');
    const limits = [...ferry.stdout.matchAll(/probe \d+ (\d+)/g)].map((m) => Number(m[1]));
    expect(limits).toHaveLength(2);
    // V8 rounds the old space and adds the young generation on top of the 300 MiB asked for.
    expect(limits[1]).toBeGreaterThanOrEqual(300);
    expect(limits[1]).toBeLessThan(400);
    expect(limits[0]).toBeGreaterThan(limits[1]!);
  });

  it.runIf(canReplaceItself)('without any budget, limits the heap to the default and stays the same process', async () => {
    // (spawn leaves out a variable whose value is undefined)
    const ferry = await run([FERRY, 'run', '--help'], { FERRY_MEMORY_LIMIT: undefined, NODE_OPTIONS: `--import=${preload(printPidAndLimit)}` });
    expect(ferry.code).toBe(0);
    const probes = [...ferry.stdout.matchAll(/probe (\d+) (\d+)/g)].map((m) => ({ pid: Number(m[1]), limit: Number(m[2]) }));
    expect(probes).toHaveLength(2);
    expect(probes.map((p) => p.pid)).toEqual([ferry.pid, ferry.pid]);
    // 384 MiB of old space (75% of 512Mi) and the young generation on top.
    expect(probes[1]!.limit).toBeGreaterThanOrEqual(384);
    expect(probes[1]!.limit).toBeLessThan(512);
    expect(probes[0]!.limit).toBeGreaterThan(probes[1]!.limit);
  });

  it.runIf(canReplaceItself)('a relaunched run that SIGKILLs itself (a failpoint) ends the ferry process by SIGKILL', async () => {
    const killItself = preload(`if (limited) process.kill(process.pid, 'SIGKILL');`);
    const ferry = await run([FERRY, 'run', '--help'], { FERRY_MEMORY_LIMIT: '400Mi', NODE_OPTIONS: `--import=${killItself}` });
    expect(ferry.signal).toBe('SIGKILL');
    expect(ferry.stdout).not.toContain('Usage');
  });

  it.runIf(canReplaceItself)('a SIGKILL of the ferry process leaves no relaunched run behind', async () => {
    const hang = preload(`if (limited) { console.log('running', process.pid); setInterval(() => {}, 1000); await new Promise(() => {}); }`);
    let running = 0;
    const ferry = await run([FERRY, 'run', '--help'], { FERRY_MEMORY_LIMIT: '400Mi', NODE_OPTIONS: `--import=${hang}` }, (out, pid) => {
      const match = /running (\d+)/.exec(out);
      if (match && !running) {
        running = Number(match[1]);
        process.kill(pid, 'SIGKILL');
      }
    });
    expect(ferry.signal).toBe('SIGKILL');
    expect(running).toBe(ferry.pid);
    expect(alive(running)).toBe(false);
  });
});

describe('the relaunch as a child process (Node before 22.15, a container PID 1)', () => {
  // A launcher like bin/ferry.mjs that always takes the child-process path; the child runs `behaviour`.
  function launcher(behaviour: string): string {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-relaunch-')), 'launcher.mjs');
    writeFileSync(
      file,
      `import { endWithParent, relaunchWithHeapLimit } from '${HEAP_LIMIT}';
if (!process.execArgv.some((a) => a.startsWith('--max-old-space-size'))) relaunchWithHeapLimit(200, { inPlace: false });
else { endWithParent(); ${behaviour} }\n`,
    );
    return file;
  }

  it('passes the exit code on', async () => {
    const result = await run([launcher(`process.exitCode = 3;`)], {});
    expect(result.code).toBe(3);
  });

  it('ends by the signal that ended the child (a failpoint SIGKILL)', async () => {
    const result = await run([launcher(`process.kill(process.pid, 'SIGKILL');`)], {});
    expect(result.signal).toBe('SIGKILL');
  });

  it('passes SIGTERM on, and ends by it as the child did', async () => {
    const result = await run([launcher(`console.log('running', process.pid); setInterval(() => {}, 1000);`)], {}, (out, pid) => {
      if (/running/.test(out)) process.kill(pid, 'SIGTERM');
    });
    expect(result.signal).toBe('SIGTERM');
  });

  it('the child ends at once when the launcher is SIGKILLed', async () => {
    let child = 0;
    const result = await run([launcher(`console.log('running', process.pid); setInterval(() => {}, 1000);`)], {}, (out, pid) => {
      const match = /running (\d+)/.exec(out);
      if (match && !child) {
        child = Number(match[1]);
        process.kill(pid, 'SIGKILL');
      }
    });
    expect(result.signal).toBe('SIGKILL');
    expect(child).not.toBe(result.pid);
    const deadline = Date.now() + 5000;
    while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(child)).toBe(false);
  });
});
