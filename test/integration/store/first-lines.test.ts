import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FirstLines } from '../../../src/store/first-lines.js';
import { keyHash } from '../../../src/util/dense-key-lines.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

/** Every line whose key came on an earlier line, with that first line: what the register must answer. */
function expectedRepeats(keys: string[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  keys.forEach((key, i) => {
    const line = i + 1;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, line);
    else repeats.set(line, earlier);
  });
  return repeats;
}

/** `count` line numbers from `from` on. */
const lineNumbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Registers `keys` (lines 1, 2, …) in batches of `size`, each issued before the previous one's answer, as the reader does. */
async function registerAll(register: FirstLines, keys: string[], size: number): Promise<Map<number, number>> {
  const batches: Promise<Map<number, number>>[] = [];
  for (let start = 0; start < keys.length; start += size) {
    batches.push(register.register(keys.slice(start, start + size), lineNumbers(start + 1, Math.min(size, keys.length - start))));
  }
  const found = new Map<number, number>();
  for (const answer of await Promise.all(batches)) for (const [line, first] of answer) found.set(line, first);
  return found;
}

/** The keys in the register's table (the one temporary table of the session). */
async function keysInTable(client: pg.Client): Promise<number> {
  const tables = await client.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'ferry_first_lines_%'`);
  expect(tables.rows).toHaveLength(1);
  const count = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tables.rows[0]!.tablename}`);
  return count.rows[0]!.n;
}

/**
 * Two different keys with the same 32-bit hash (found by trying c0, c1, … in turn: the first repeat
 * of a hash came at c1170850). If keyHash changes, the test that uses them says so; find a new pair.
 */
const COLLIDING: [string, string] = ['c693596', 'c1170850'];

describe('FirstLines: the keys of a snapshot file in memory up to a byte budget, then in a temporary table', () => {
  it('finds every repeat before, across and after the move to the table, also with batches registered while the previous one is checked', async () => {
    const url = await freshDatabase('first_lines');
    await withClient(url, async (client) => {
      // 1,200 lines of 700 keys: repeats within a batch, a batch apart, and across the budget of 4 KiB (~100 keys).
      const keys = Array.from({ length: 1200 }, (_, i) => `k${(i * 7919) % 700}`);
      const register = await FirstLines.create(client, 4096);
      // Not awaited in turn: the reader issues the next batch's check before the previous one's answer.
      expect(await registerAll(register, keys, 150)).toEqual(expectedRepeats(keys));
      // Some keys stayed in memory, the others went to the table.
      const inTable = await keysInTable(client);
      expect(inTable).toBeGreaterThan(0);
      expect(inTable).toBeLessThan(700);
      const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_first_lines_%'`);
      expect(tables.rows[0].n).toBe(1);
      await register.drop();
      const after = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_first_lines_%'`);
      expect(after.rows[0].n).toBe(0);
    });
  }, 60_000);

  it('a file within the bound never creates a table', async () => {
    const url = await freshDatabase('first_lines_small');
    await withClient(url, async (client) => {
      const keys = ['a', 'b', 'a', 'c', 'b', 'a'];
      const register = await FirstLines.create(client);
      expect(await register.register(keys, lineNumbers(1, keys.length))).toEqual(expectedRepeats(keys));
      const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_first_lines_%'`);
      expect(tables.rows[0].n).toBe(0);
      await register.drop();
    });
  }, 60_000);

  it('keeps in memory exactly: repeats within and across batches, multi-byte keys, keys whose hashes collide, repeats on both sides of the budget', async () => {
    const url = await freshDatabase('first_lines_dense');
    await withClient(url, async (client) => {
      const [a, b] = COLLIDING;
      expect(keyHash(a)).toBe(keyHash(b));
      const special = [a, b, 'é', 'Ã©', '日本', '日本語', '😀', '\uD83D', '\uDE00', '\uD800', 'x\u0001y', 'x\u0001', ''];
      // Lines 1-…: the special keys (in memory), then enough keys to pass a 16 KiB budget, each
      // special key and some early and late keys again, then new keys and their repeats (in the table).
      const early = Array.from({ length: 600 }, (_, i) => `early-${i}`);
      const late = Array.from({ length: 300 }, (_, i) => `late-${i}`);
      const keys = [
        ...special,
        ...special.slice(0, 4),
        ...early,
        ...early.slice(0, 50),
        ...late,
        ...special,
        ...early.filter((_, i) => i % 7 === 0),
        ...late.filter((_, i) => i % 3 === 0),
        ...[...late].reverse(),
        b,
        a,
      ];
      for (const size of [1, 37, 500]) {
        // The same keys with each batch size: a new register each time, the table dropped in between.
        const register = await FirstLines.create(client, 16 * 1024);
        expect(await registerAll(register, keys, size)).toEqual(expectedRepeats(keys));
        const inTable = await keysInTable(client);
        expect(inTable).toBeGreaterThan(100);
        expect(inTable).toBeLessThan(new Set(keys).size - special.length);
        await register.drop();
      }
    });
  }, 60_000);
});
