import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module of the launcher, without type declarations
import { heapLimitMiB } from '../../bin/heap-limit.mjs';

const limit = heapLimitMiB as (command: string, env?: Record<string, string>, execArgv?: string[]) => number | undefined;

describe('the heap limit ferry run and ferry job set for themselves', () => {
  it('gives V8 75% of the memory budget, for run and job only', () => {
    expect(limit('run', { FERRY_MEMORY_LIMIT: '400Mi' }, [])).toBe(300);
    expect(limit('job', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBe(768);
    expect(limit('job', { FERRY_MEMORY_LIMIT: '536870912' }, [])).toBe(384);
    expect(limit('controller', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBeUndefined();
    expect(limit('validate', { FERRY_MEMORY_LIMIT: '1Gi' }, [])).toBeUndefined();
  });

  it('never overrides an explicit --max-old-space-size', () => {
    expect(limit('run', { FERRY_MEMORY_LIMIT: '1Gi', NODE_OPTIONS: '--max-old-space-size=2048' }, [])).toBeUndefined();
    expect(limit('run', { FERRY_MEMORY_LIMIT: '1Gi' }, ['--max-old-space-size=100'])).toBeUndefined();
  });

  it('runs the command again in a node whose heap is limited', () => {
    // A preloaded probe prints each process's heap limit: the launcher's (V8's default) and the relaunched command's.
    const probe = join(mkdtempSync(join(tmpdir(), 'ferry-heap-')), 'probe.mjs');
    writeFileSync(probe, `import v8 from 'node:v8';\nconsole.log('heap-limit-mib', Math.round(v8.getHeapStatistics().heap_size_limit / 1024 ** 2));\n`);
    const ferry = spawnSync(process.execPath, [join(__dirname, '../../bin/ferry.mjs'), 'run', '--help'], {
      encoding: 'utf8',
      env: { ...process.env, FERRY_MEMORY_LIMIT: '400Mi', NODE_OPTIONS: `--import=${probe}` },
    });
    expect(ferry.status).toBe(0);
    expect(ferry.stdout).toContain('Usage: ferry run');
    const limits = [...ferry.stdout.matchAll(/heap-limit-mib (\d+)/g)].map((m) => Number(m[1]));
    expect(limits).toHaveLength(2);
    // V8 rounds the old space and adds the young generation on top of the 300 MiB asked for.
    expect(limits[1]).toBeGreaterThanOrEqual(300);
    expect(limits[1]).toBeLessThan(400);
    expect(limits[0]).toBeGreaterThan(limits[1]);
  });
});
