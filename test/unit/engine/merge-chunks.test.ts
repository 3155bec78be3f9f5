import { describe, expect, it } from 'vitest';
import { encodeInteger } from '../../../src/engine/keys.js';
import { mergeChunksByKey, type KeyMatchChunk } from '../../../src/engine/merge-join.js';

type Item = { key: string; side: 'l' | 'r' };

/** A side's items in the given chunk sizes (0 gives an empty chunk), recording whether it was closed. */
class Side {
  closed = false;
  taken = 0;
  constructor(
    private readonly items: Item[],
    private readonly sizes: number[],
    private readonly failAfterChunks = Infinity,
  ) {}

  async *chunks(): AsyncGenerator<Item[]> {
    try {
      let at = 0;
      let chunk = 0;
      for (let s = 0; at < this.items.length || s < this.sizes.length; s++) {
        if (chunk++ === this.failAfterChunks) throw new Error('the side failed');
        const size = this.sizes[s % this.sizes.length]!;
        const rows = this.items.slice(at, at + size);
        at += rows.length;
        this.taken += rows.length;
        yield rows;
        if (s >= this.sizes.length && at >= this.items.length) break;
      }
    } finally {
      this.closed = true;
    }
  }
}

function items(keys: number[], side: 'l' | 'r'): Item[] {
  return keys.map((k) => ({ key: encodeInteger(String(k)), side }));
}

/** Every key of either side once, with the sides that have it, in key order. */
function expected(left: number[], right: number[]): string[] {
  const all = [...new Set([...left, ...right])].sort((a, b) => a - b);
  return all.map((k) => `${left.includes(k) ? k : '-'}|${right.includes(k) ? k : '-'}`);
}

async function merged(left: Side, right: Side): Promise<{ matches: string[]; chunks: KeyMatchChunk<Item, Item>[] }> {
  const matches: string[] = [];
  const chunks: KeyMatchChunk<Item, Item>[] = [];
  for await (const chunk of mergeChunksByKey(left.chunks(), right.chunks(), (i) => i.key, (i) => i.key)) {
    chunks.push(chunk);
    expect(chunk.left.length).toBe(chunk.right.length);
    for (let i = 0; i < chunk.left.length; i++) {
      const l = chunk.left[i];
      const r = chunk.right[i];
      expect(l !== undefined || r !== undefined).toBe(true);
      if (l && r) expect(l.key).toBe(r.key);
      const show = (item: Item | undefined) => (item ? String(Number(item.key.slice(1))) : '-');
      matches.push(`${show(l)}|${show(r)}`);
    }
  }
  return { matches, chunks };
}

/** Numbers from a fixed seed (the same cases every run). */
function numbers(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('mergeChunksByKey', () => {
  it('gives every row of either side once, partners together, in key order, whatever the chunks on each side (uneven, empty, ending mid-way)', async () => {
    const random = numbers(7);
    for (let round = 0; round < 300; round++) {
      const left = [...Array(Math.floor(random() * 60)).keys()].filter(() => random() < 0.6).map((k) => k * 3);
      const right = [...Array(Math.floor(random() * 180)).keys()].filter(() => random() < 0.5);
      const sizes = (): number[] => Array.from({ length: 1 + Math.floor(random() * 4) }, () => Math.floor(random() * 7));
      const [leftSizes, rightSizes] = [sizes(), sizes()];
      // A chunking of only empty chunks would never end: at least one row per round of sizes.
      if (!leftSizes.some((s) => s > 0)) leftSizes.push(1);
      if (!rightSizes.some((s) => s > 0)) rightSizes.push(1);
      const l = new Side(items(left, 'l'), leftSizes);
      const r = new Side(items(right, 'r'), rightSizes);
      const { matches } = await merged(l, r);
      expect(matches, `left ${left} in ${leftSizes}, right ${right} in ${rightSizes}`).toEqual(expected(left, right));
      expect(l.closed && r.closed).toBe(true);
    }
  });

  it('pairs equal keys that end one chunk on one side and begin the next on the other, and the rows after them', async () => {
    // Left chunks [1 2 3] [4 5]; right chunks [3] [4] [5 6 7]: 3 ends a left chunk and is a right chunk of its own, 4 begins both next chunks.
    const l = new Side(items([1, 2, 3, 4, 5], 'l'), [3, 2]);
    const r = new Side(items([3, 4, 5, 6, 7], 'r'), [1, 1, 3]);
    const { matches } = await merged(l, r);
    expect(matches).toEqual(['1|-', '2|-', '3|3', '4|4', '5|5', '-|6', '-|7']);
  });

  it('gives the other side whole when one is empty, or has only empty chunks', async () => {
    expect((await merged(new Side([], [0]), new Side(items([1, 2, 3], 'r'), [2]))).matches).toEqual(['-|1', '-|2', '-|3']);
    expect((await merged(new Side(items([1, 2, 3], 'l'), [1, 0, 2]), new Side([], [0, 0]))).matches).toEqual(['1|-', '2|-', '3|-']);
    expect((await merged(new Side([], [0]), new Side([], [0]))).matches).toEqual([]);
  });

  it('closes both sides when the consumer stops early, whether both still had rows or one had ended', async () => {
    const l = new Side(items([1, 2, 3, 4, 5, 6], 'l'), [2]);
    const r = new Side(items([2, 4, 6, 8], 'r'), [3]);
    for await (const chunk of mergeChunksByKey(l.chunks(), r.chunks(), (i) => i.key, (i) => i.key)) {
      expect(chunk.left.length).toBeGreaterThan(0);
      break;
    }
    expect([l.closed, r.closed]).toEqual([true, true]);
    expect(l.taken).toBeLessThan(6);

    const shortLeft = new Side(items([1], 'l'), [1]);
    const longRight = new Side(items([5, 6, 7, 8, 9, 10], 'r'), [2]);
    let seen = 0;
    for await (const chunk of mergeChunksByKey(shortLeft.chunks(), longRight.chunks(), (i) => i.key, (i) => i.key)) {
      seen += chunk.right.filter((pair) => pair).length;
      if (seen >= 2) break;
    }
    expect([shortLeft.closed, longRight.closed]).toEqual([true, true]);
    expect(longRight.taken).toBeLessThan(6);
  });

  it('passes on a failure of either side, after the matches before it, and closes the other side', async () => {
    for (const failing of ['left', 'right'] as const) {
      const l = new Side(items([1, 2, 3, 4, 5, 6], 'l'), [2], failing === 'left' ? 2 : Infinity);
      const r = new Side(items([1, 2, 3, 4, 5, 6], 'r'), [2], failing === 'right' ? 2 : Infinity);
      const seen: string[] = [];
      const run = (async () => {
        for await (const chunk of mergeChunksByKey(l.chunks(), r.chunks(), (i) => i.key, (i) => i.key)) {
          for (const item of chunk.left) seen.push(item!.key);
        }
      })();
      await expect(run, failing).rejects.toThrow('the side failed');
      expect(seen.map((k) => Number(k.slice(1))), failing).toEqual([1, 2, 3, 4]);
      expect([l.closed, r.closed], failing).toEqual([true, true]);
    }
  });
});
