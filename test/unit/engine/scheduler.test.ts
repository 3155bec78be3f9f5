import { describe, expect, it } from 'vitest';
import { runInDependencyOrder } from '../../../src/engine/scheduler.js';

const item = (name: string, requires: string[] = []) => ({ name, requires });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runInDependencyOrder', () => {
  it('never starts an item before everything it requires has finished, and uses every lane', async () => {
    const items = [item('lookup'), item('firms', ['lookup']), item('people', ['firms', 'lookup']), item('emails', ['people']), item('phones', ['people']), item('tags', ['people'])];
    const log: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    await runInDependencyOrder(items, ['lane-a', 'lane-b'], async (i) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      log.push(`start ${i.name}`);
      await sleep(10);
      log.push(`end ${i.name}`);
      concurrent--;
    });
    for (const i of items) for (const dep of i.requires) expect(log.indexOf(`end ${dep}`)).toBeLessThan(log.indexOf(`start ${i.name}`));
    expect(maxConcurrent).toBe(2);
    expect(log.filter((l) => l.startsWith('end'))).toHaveLength(items.length);
  });

  it('stops starting new items after a failure and rethrows the first error', async () => {
    const started: string[] = [];
    const run = runInDependencyOrder([item('a'), item('b', ['a']), item('c', ['b'])], [1, 2], async (i) => {
      started.push(i.name);
      if (i.name === 'b') throw new Error('b broke');
    });
    await expect(run).rejects.toThrow('b broke');
    expect(started).toEqual(['a', 'b']);
  });
});
