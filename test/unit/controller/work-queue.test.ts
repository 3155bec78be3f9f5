import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/controller/work-queue.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('deduplicates keys and never runs one key twice at once', async () => {
    const calls: string[] = [];
    let concurrentSameKey = 0;
    const running = new Set<string>();
    const queue = new WorkQueue({
      concurrency: 4,
      process: async (key) => {
        if (running.has(key)) concurrentSameKey++;
        running.add(key);
        calls.push(key);
        await tick(20);
        running.delete(key);
      },
    });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    await tick();
    queue.add('a'); // arrives while a runs: processed once more afterwards
    queue.add('a');
    await queue.drain();
    await tick(50);
    await queue.drain();
    expect(calls.filter((k) => k === 'a')).toHaveLength(2);
    expect(calls.filter((k) => k === 'b')).toHaveLength(1);
    expect(concurrentSameKey).toBe(0);
  });

  it('retries failures with growing delays and honours requeueAfter', async () => {
    const times: number[] = [];
    const start = Date.now();
    const queue = new WorkQueue({
      concurrency: 1,
      baseDelayMs: 20,
      process: async () => {
        times.push(Date.now() - start);
        if (times.length < 3) throw new Error('boom');
        if (times.length === 3) return { requeueAfterMs: 30 };
      },
    });
    queue.add('x');
    while (times.length < 4) await tick(5);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(18);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(38);
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(28);
    await queue.shutdown();
  });

  it('limits concurrency and stops taking work on shutdown', async () => {
    let active = 0;
    let peak = 0;
    let done = 0;
    const queue = new WorkQueue({
      concurrency: 2,
      process: async () => {
        active++;
        peak = Math.max(peak, active);
        await tick(10);
        active--;
        done++;
      },
    });
    for (let i = 0; i < 6; i++) queue.add(`k${i}`);
    await queue.drain();
    expect(peak).toBe(2);
    expect(done).toBe(6);
    await queue.shutdown();
    queue.add('late');
    await tick(20);
    expect(done).toBe(6);
  });
});
