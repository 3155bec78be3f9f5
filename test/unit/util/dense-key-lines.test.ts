import { describe, expect, it } from 'vitest';
import { MEMORY_BYTES } from '../../../src/connectors/files/first-lines.js';
import { DenseKeyLines, keyByteLength, keyHash, NO_ROOM, recordBytes, writeRecord } from '../../../src/util/dense-key-lines.js';

/** What `add` must answer for each key in turn (line i + 1): the first line of a repeat, else 0. */
function expectedAnswers(keys: string[]): number[] {
  const first = new Map<string, number>();
  return keys.map((key, i) => {
    const earlier = first.get(key);
    if (earlier !== undefined) return earlier;
    first.set(key, i + 1);
    return 0;
  });
}

const addAll = (set: DenseKeyLines, keys: string[]) => keys.map((key, i) => set.add(key, i + 1));

/**
 * Two different keys with the same 32-bit hash (found by trying c0, c1, … in turn: the first repeat
 * of a hash came at c1170850). If keyHash changes, the test that uses them says so; find a new pair.
 */
const COLLIDING: [string, string] = ['c693596', 'c1170850'];

describe('DenseKeyLines: keys and their first lines packed in typed arrays under a byte budget', () => {
  it('answers every repeat with the line its key first came on, through the growth of every array', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${(i * 7919) % 9_000}`);
    const set = new DenseKeyLines(MEMORY_BYTES);
    expect(addAll(set, keys)).toEqual(expectedAnswers(keys));
    expect(set.size).toBe(9_000);
    expect(set.closed).toBe(false);
  });

  it('tells apart keys that differ only past the ASCII range, in length, or by a lone surrogate', () => {
    const keys = [
      'é', 'Ã©', // U+00E9 and the two characters its UTF-8 bytes read as in Latin-1
      '日本', '日', '日本語', '', 'a', 'ab', 'a\u0001b', 'a\u0001', '😀', '\uD83D', '\uDE00', '\uD800', '\uD801', '\u07FF', '\u0800', '\uFFFF',
    ];
    const repeated = [...keys, ...[...keys].reverse(), 'é', '😀x', '😀'];
    const set = new DenseKeyLines(MEMORY_BYTES);
    expect(addAll(set, repeated)).toEqual(expectedAnswers(repeated));
    expect(set.size).toBe(new Set(repeated).size);
  });

  it('keeps keys whose hashes are equal apart, by their bytes', () => {
    const [a, b] = COLLIDING;
    expect(a).not.toBe(b);
    expect(keyHash(a)).toBe(keyHash(b));
    const keys = [a, b, 'x', b, a, 'y', a];
    const set = new DenseKeyLines(MEMORY_BYTES);
    expect(addAll(set, keys)).toEqual([0, 0, 0, 2, 1, 0, 1]);
  });

  it('with one hash for every key, still tells every key apart by its length and bytes (prefixes, multi-byte units)', () => {
    const keys = ['a', 'ab', 'abc', '', 'b', 'é', 'Ã©', '\uD83D', '😀', '😀x', 'a\u0001', 'a\u0001b', ...Array.from({ length: 200 }, (_, i) => `k${i % 120}`)];
    const repeated = [...keys, ...[...keys].reverse()];
    const set = new DenseKeyLines(MEMORY_BYTES, () => 12345);
    expect(addAll(set, repeated)).toEqual(expectedAnswers(repeated));
    expect(set.size).toBe(new Set(repeated).size);
  });

  it('stays within its budget: past it, new keys are refused for good while held keys are still found', () => {
    const budget = 64 * 1024;
    const set = new DenseKeyLines(budget);
    let line = 0;
    while (set.add(`key-${line}`, line + 1) === 0) line++;
    const held = set.size;
    expect(held).toBe(line);
    expect(held).toBeGreaterThan(1_000);
    expect(set.byteLength).toBeLessThanOrEqual(budget);
    expect(set.closed).toBe(true);
    // A short key that would fit is refused too: a refused key went elsewhere, so no later key may come here.
    expect(set.add('z', 1_000_000)).toBe(NO_ROOM);
    expect(set.add(`key-${line}`, 1_000_001)).toBe(NO_ROOM);
    expect(set.add('key-0', 1_000_002)).toBe(1);
    expect(set.add(`key-${held - 1}`, 1_000_003)).toBe(held);
    expect(set.size).toBe(held);
    expect(set.byteLength).toBeLessThanOrEqual(budget);
  });

  it('once it refused a long key, refuses a short one that would fit too', () => {
    // Chunks of 1 KiB: a key of 2,000 bytes never fits.
    const set = new DenseKeyLines(4096);
    expect(set.add('a', 1)).toBe(0);
    expect(set.add('x'.repeat(2000), 2)).toBe(NO_ROOM);
    expect(set.add('b', 3)).toBe(NO_ROOM);
    expect(set.add('a', 4)).toBe(1);
  });

  it('refuses a line it cannot hold (not a whole number from 1 to 2^32 - 1)', () => {
    for (const line of [0, -1, 1.5, 2 ** 32]) {
      const set = new DenseKeyLines(MEMORY_BYTES);
      expect(set.add('a', line)).toBe(NO_ROOM);
      expect(set.size).toBe(0);
    }
    const set = new DenseKeyLines(MEMORY_BYTES);
    expect(set.add('a', 2 ** 32 - 1)).toBe(0);
    expect(set.add('a', 7)).toBe(2 ** 32 - 1);
  });

  it('takes a key as its record (addRecord) exactly as add takes it as a string, and shares one set between both', () => {
    const [a, b] = COLLIDING;
    const keys = [a, b, 'é', 'Ã©', '日本', '\uD83D', '😀', '', 'a\u0001', ...Array.from({ length: 3_000 }, (_, i) => `k${(i * 7919) % 2_000}`)];
    const repeated = [...keys, ...[...keys].reverse()];
    const set = new DenseKeyLines(MEMORY_BYTES);
    const record = new Uint8Array(1024);
    const answers = repeated.map((key, i) => {
      if (i % 2 === 0) return set.add(key, i + 1);
      writeRecord(key, keyByteLength(key), i + 1, record, 0);
      return set.addRecord(record, 0);
    });
    expect(answers).toEqual(expectedAnswers(repeated));
  });

  it('holds: keys it says fit are all taken by a set of that budget, and a few more bytes would not fit', () => {
    for (const budget of [4096, 64 * 1024, 1024 * 1024]) {
      const set = new DenseKeyLines(budget);
      let bytes = 0;
      let longest = 0;
      let count = 0;
      for (; ; count++) {
        const key = `key-${count}-${'x'.repeat(count % 17)}`;
        const size = recordBytes(keyByteLength(key));
        if (!DenseKeyLines.holds(budget, count + 1, bytes + size, Math.max(longest, size))) break;
        expect(set.add(key, count + 1)).toBe(0);
        bytes += size;
        longest = Math.max(longest, size);
      }
      expect(count).toBeGreaterThan(20);
      // Within a tenth of what the set takes before it refuses.
      while (set.add(`more-${count}`, count + 1) === 0) count++;
      expect(set.size).toBeLessThan(count * 1.1 + 10);
    }
    expect(DenseKeyLines.holds(4096, 1, 1100, 1100)).toBe(false);
  });

  it('usedBytes: the records held and a table at its load limit, growing with the keys, not in the steps the table grows by', () => {
    const set = new DenseKeyLines(1 << 20);
    let records = 0;
    for (let i = 1; i <= 5_000; i++) {
      // A repeat adds nothing.
      set.add(`key ${i}`, i);
      set.add(`key ${i}`, i + 1);
      records += recordBytes(keyByteLength(`key ${i}`));
      if (i % 1000 === 0) expect(set.usedBytes).toBe(records + 4 * Math.ceil(i / 0.75));
    }
    expect(set.usedBytes).toBeLessThanOrEqual(set.byteLength);
  });

  it('holds a million and five thousand keys of the files bench (E1 … E1005000) within the shipped budget', () => {
    const set = new DenseKeyLines(MEMORY_BYTES);
    for (let i = 1; i <= 1_005_000; i++) if (set.add(`E${i}`, i) !== 0) throw new Error(`E${i} not added`);
    expect(set.closed).toBe(false);
    expect(set.add('E1005000', 2_000_000)).toBe(1_005_000);
    expect(set.add('E1', 2_000_001)).toBe(1);
    // About 13 bytes a key in records and 6.5 in the table.
    expect(set.byteLength).toBeLessThan(20 * 1024 * 1024);
  });
});
