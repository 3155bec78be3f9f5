import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIRST_PROJECTION, FirstLines, KEYS_KEPT_IN_ORDER, KeyOrderWatch } from '../../../src/connectors/files/first-lines.js';
import { takeKeyCensus, type RepeatedLines } from '../../../src/connectors/files/key-census.js';
import { keyHash } from '../../../src/util/dense-key-lines.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** Every line whose key came on an earlier line, with that first line (keys on lines 1, 2, …). */
function expectedRepeats(keys: string[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  keys.forEach((key, i) => {
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i + 1);
    else repeats.set(i + 1, earlier);
  });
  return repeats;
}

const lineNumbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * Two different keys with the same 32-bit hash (found by trying c0, c1, … in turn: the first repeat
 * of a hash came at c1170850). If keyHash changes, the test that uses them says so; find a new pair.
 */
const COLLIDING: [string, string] = ['c693596', 'c1170850'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-census-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A census of `keys` (lines 1, 2, …; undefined: a line with no key), as if read from a file of `fileBytes` beside `dir`'s plain file. */
function censusOf(keys: (string | undefined)[], budget: number, fileBytes: number): Promise<RepeatedLines> {
  return takeKeyCensus(join(dir, 'plain'), fileBytes, budget, async (census) => {
    keys.forEach((key, i) => key !== undefined && census.add(key, i + 1));
  });
}

/** Every answer of a census, asked line by line in order. */
function answers(census: RepeatedLines, lines: number): Map<number, number> {
  const found = new Map<number, number>();
  for (let line = 1; line <= lines; line++) {
    const first = census.firstOf(line);
    if (first !== 0) found.set(line, first);
  }
  return found;
}

/** Registers `keys` (lines 1, 2, …) in batches of `size`, each issued before the previous one's answer, as the reader does. */
async function registerAll(register: FirstLines, keys: string[], size: number, withProgress = false): Promise<Map<number, number>> {
  const batches: Promise<Map<number, number>>[] = [];
  for (let start = 0; start < keys.length; start += size) {
    const count = Math.min(size, keys.length - start);
    // With progress: the share of the file read, as if each key took one line of the same length.
    const progress = withProgress ? (start + count) / keys.length : undefined;
    batches.push(register.register(keys.slice(start, start + size), lineNumbers(start + 1, count), progress));
  }
  const found = new Map<number, number>();
  for (const answer of await Promise.all(batches)) for (const [line, first] of answer) found.set(line, first);
  return found;
}

describe('key census: the repeated lines of a file, with bounded memory and no database', () => {
  it('finds every repeat, ascending or random, many repeats of one key, over partitions that fit and partitions split again', async () => {
    const next = seededRandom(7);
    const ascending = [...Array.from({ length: 30_000 }, (_, i) => `E${i + 1}`), ...Array.from({ length: 500 }, (_, i) => `E${1 + i * 60}`), 'E1', 'E1', 'E1'];
    const shuffled = ascending.map((key) => ({ key, at: next() })).sort((a, b) => a.at - b.at).map((k) => k.key);
    const often = Array.from({ length: 20_000 }, (_, i) => (i % 5 === 0 ? 'same' : `k${Math.floor(next() * 9_000)}`));
    for (const keys of [ascending, shuffled, often]) {
      // A file size that makes few partitions (each split again), and one that makes many (each fits).
      for (const fileBytes of [10_000, 4_000_000]) {
        const census = await censusOf(keys, 16 * 1024, fileBytes);
        expect(answers(census, keys.length)).toEqual(expectedRepeats(keys));
        await census.close();
      }
    }
  });

  it('tells apart keys past the ASCII range, lone surrogates, the empty key, colliding hashes; long keys by their digest', async () => {
    const [a, b] = COLLIDING;
    expect(keyHash(a)).toBe(keyHash(b));
    const long = 'x'.repeat(300);
    const special = [a, b, 'é', 'Ã©', '日本', '日本語', '😀', '\uD83D', '\uDE00', '\uD800', 'x\u0001y', 'x\u0001', '', long, `${long}y`, `${long}é`, '日'.repeat(90), '日'.repeat(85)];
    const filler = Array.from({ length: 3_000 }, (_, i) => `f${i}`);
    const keys = [...special, ...filler, ...special.reverse(), ...filler.slice(0, 100), b, a, long];
    const census = await censusOf(keys, 4096, 50_000);
    expect(answers(census, keys.length)).toEqual(expectedRepeats(keys));
    await census.close();
  });

  it('counts only the lines given a key; lines asked past a repeat skip it', async () => {
    const keys = ['a', undefined, 'b', 'a', undefined, 'b', 'c', 'a'];
    const census = await censusOf(keys, 4096, 100);
    expect(census.firstOf(4)).toBe(1);
    // Line 6 is never asked: the answer for line 8 is still found.
    expect(census.firstOf(7)).toBe(0);
    expect(census.firstOf(8)).toBe(1);
    await census.close();
  });

  it('keeps only the runs of repeats until closed, then nothing; removes everything when reading fails', async () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => `k${i % 4_000}`);
    const census = await censusOf(keys, 4096, 100_000);
    const [made] = await readdir(dir);
    expect(made).toMatch(/^census-/);
    const files = await readdir(join(dir, made!));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.endsWith('.repeats'))).toBe(true);
    // Runs past 32 are merged: a run is an open file while read.
    expect(files.length).toBeLessThanOrEqual(32);
    expect(files.some((f) => f.endsWith('.merged.repeats'))).toBe(true);
    await census.close();
    expect(await readdir(dir)).toEqual([]);

    const failing = takeKeyCensus(join(dir, 'plain'), 100_000, 4096, async (keysOf) => {
      for (let i = 1; i <= 3_000; i++) keysOf.add(`k${i}`, i);
      throw new Error('the file went away');
    });
    await expect(failing).rejects.toThrow('the file went away');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('FirstLines: the keys of a snapshot file in memory up to a byte budget, then a census of the file', () => {
  it('finds every repeat before, across and after the switch, also with batches registered while the previous one waits', async () => {
    // 1,200 lines of 700 keys: repeats within a batch, a batch apart, and across the budget of 4 KiB (~100 keys).
    const keys = Array.from({ length: 1200 }, (_, i) => `k${(i * 7919) % 700}`);
    for (const size of [1, 37, 150, 500]) {
      let censuses = 0;
      const register = new FirstLines(4096, () => (censuses++, censusOf(keys, 4096, 20_000)));
      expect(await registerAll(register, keys, size)).toEqual(expectedRepeats(keys));
      expect(register.counted).toBe(true);
      expect(censuses).toBe(1);
      await register.drop();
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('a file whose keys fit never takes a census, and answers at once', async () => {
    const keys = ['a', 'b', 'a', 'c', 'b', 'a'];
    const register = new FirstLines(4096, () => {
      throw new Error('no census for a small file');
    });
    let answered: Map<number, number> | undefined;
    void register.register(keys, lineNumbers(1, keys.length)).then((found) => (answered = found));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toEqual(expectedRepeats(keys));
    expect(register.counted).toBe(false);
    await register.drop();
  });

  it('a census that fails fails the batches that wait for it', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${(i * 7919) % 1000}`);
    const register = new FirstLines(4096, async () => {
      throw new Error('disk full');
    });
    await expect(registerAll(register, keys, 100)).rejects.toThrow('disk full');
    await register.drop();
  });
});

describe('KeyOrderWatch: keys that ascend cannot repeat', () => {
  const follows = (keys: string[]) => {
    const watch = new KeyOrderWatch();
    return keys.map((key) => watch.follows(key));
  };

  it('follows keys in code-unit order (padded numbers) and in length-first order (numbers without padding)', () => {
    expect(follows(['E001', 'E002', 'E010', 'E100'])).toEqual([true, true, true, true]);
    expect(follows(['E1', 'E2', 'E9', 'E10', 'E11', 'E100'])).toEqual([true, true, true, true, true, true]);
    expect(follows(['a', 'b', 'ba', 'c'])).toEqual([true, true, true, true]); // by code units only
    expect(follows(['b', 'a'])).toEqual([true, false]);
  });

  it('stops at a repeat, and for good once both orders broke', () => {
    expect(follows(['E1', 'E2', 'E2', 'E3'])).toEqual([true, true, false, false]);
    // E10 after E9 breaks code-unit order; E1 after E10 then breaks length-first order too.
    expect(follows(['E8', 'E9', 'E10', 'E1', 'E11'])).toEqual([true, true, true, false, false]);
  });
});

describe('FirstLines: keys in order', () => {
  it('keys in order to the end never take a census and are answered at once, far past the keys kept', async () => {
    const keys = Array.from({ length: 3 * KEYS_KEPT_IN_ORDER }, (_, i) => `E${i + 1}`);
    const register = new FirstLines(4096, () => {
      throw new Error('no census for keys in order');
    });
    expect(await registerAll(register, keys, 2000)).toEqual(new Map());
    expect(register.counted).toBe(false);
    await register.drop();
  });

  it('out of order within the keys kept: goes on in memory, finds repeats of the keys that came in order', async () => {
    const keys = [...Array.from({ length: 50 }, (_, i) => `E${i + 1}`), 'E7', 'E51', 'E1', 'E30', 'E52', 'E52'];
    const register = new FirstLines(64 * 1024, () => {
      throw new Error('no census: the keys before were kept');
    });
    expect(await registerAll(register, keys, 20)).toEqual(expectedRepeats(keys));
    expect(register.counted).toBe(false);
    await register.drop();
  });

  it('out of order after the keys kept: the census answers from that key on, a repeat of the first key included', async () => {
    const inOrder = Array.from({ length: KEYS_KEPT_IN_ORDER + 500 }, (_, i) => `E${i + 1}`);
    const keys = [...inOrder, 'E1', 'E20000', `E${KEYS_KEPT_IN_ORDER + 500}`, 'E20000', 'E5000'];
    let censuses = 0;
    // A budget that holds every key: memory was let go because the keys came in order, not for room.
    const register = new FirstLines(1 << 20, () => (censuses++, censusOf(keys, 1 << 20, 50_000)));
    const found = await registerAll(register, keys, 2000);
    expect(found).toEqual(expectedRepeats(keys));
    expect([...found.values()]).toEqual([1, KEYS_KEPT_IN_ORDER + 500, keys.length - 3, 5000]);
    expect(register.counted).toBe(true);
    expect(censuses).toBe(1);
    await register.drop();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('FirstLines: a census foreseen from the share of the file read', () => {
  // 6,000 keys out of order (about 12 bytes each with the table): four times a budget of 16 KiB.
  const keys = Array.from({ length: 6_000 }, (_, i) => `k${(i * 7919) % 4_000}`);

  it('keys projected past the budget: the census is taken early, memory answers until full, then the census; every repeat found', async () => {
    let censuses = 0;
    let takenAtBatch = -1;
    let batches = 0;
    const register = new FirstLines(16_384, () => ((takenAtBatch = batches), censuses++, censusOf(keys, 16_384, 200_000)));
    const found = new Map<number, number>();
    for (let start = 0; start < keys.length; start += 100) {
      batches++;
      for (const [line, first] of await register.register(keys.slice(start, start + 100), lineNumbers(start + 1, 100), (start + 100) / keys.length)) found.set(line, first);
      if (batches === 2) expect([register.censusTaken, register.counted]).toEqual([true, false]);
    }
    expect(found).toEqual(expectedRepeats(keys));
    expect(censuses).toBe(1);
    // Taken once FIRST_PROJECTION of the file was read (the second batch), long before memory was full.
    expect(takenAtBatch).toBe(Math.ceil((FIRST_PROJECTION * keys.length) / 100));
    expect(register.counted).toBe(true);
    await register.drop();
    expect(await readdir(dir)).toEqual([]);
  });

  it('keys projected within the budget take no census', async () => {
    const register = new FirstLines(1 << 20, () => {
      throw new Error('no census: the keys fit');
    });
    expect(await registerAll(register, keys, 100, true)).toEqual(expectedRepeats(keys));
    expect(register.censusTaken).toBe(false);
    await register.drop();
  });

  it('a census taken early and not needed after all is stopped by drop, its files removed', async () => {
    let signalled: AbortSignal | undefined;
    let release!: () => void;
    const reading = new Promise<void>((resolve) => (release = resolve));
    // Projected past 16 KiB at the start, the keys of this file end before memory is full.
    const few = keys.slice(0, 300);
    const register = new FirstLines(16_384, (signal) => {
      signalled = signal;
      return takeKeyCensus(join(dir, 'plain'), 200_000, 16_384, async (census) => {
        census.add('k1', 1);
        await reading;
        signal.throwIfAborted();
      });
    });
    const found = await registerAll(register, few, 100, false);
    for (const [i, progress] of [[0, 0.03], [1, 0.06]] as const) await register.register([`late${i}`], [few.length + i + 1], progress);
    expect(found).toEqual(expectedRepeats(few));
    expect(register.censusTaken).toBe(true);
    expect(register.counted).toBe(false);
    const dropped = register.drop();
    expect(signalled?.aborted).toBe(true);
    release();
    await dropped;
    expect(await readdir(dir)).toEqual([]);
  });
});
