import { describe, expect, it } from 'vitest';
import { FirstLines } from '../../../src/store/first-lines.js';
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

describe('FirstLines: the keys of a snapshot file in memory up to a bound, then in a temporary table', () => {
  it('finds every repeat before, across and after the move to the table, also with batches registered while the previous one is checked', async () => {
    const url = await freshDatabase('first_lines');
    await withClient(url, async (client) => {
      // 1,200 lines of 700 keys: repeats within a batch, a batch apart, and across the bound of 500.
      const keys = Array.from({ length: 1200 }, (_, i) => `k${(i * 7919) % 700}`);
      const register = await FirstLines.create(client, 500);
      const batches: Promise<Map<number, number>>[] = [];
      for (let start = 0; start < keys.length; start += 150) {
        // Not awaited in turn: the reader issues the next batch's check before the previous one's answer.
        batches.push(register.register(keys.slice(start, start + 150), lineNumbers(start + 1, Math.min(150, keys.length - start))));
      }
      const found = new Map<number, number>();
      for (const answer of await Promise.all(batches)) for (const [line, first] of answer) found.set(line, first);
      expect(found).toEqual(expectedRepeats(keys));
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
      const register = await FirstLines.create(client, 500);
      expect(await register.register(keys, lineNumbers(1, keys.length))).toEqual(expectedRepeats(keys));
      const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_first_lines_%'`);
      expect(tables.rows[0].n).toBe(0);
      await register.drop();
    });
  }, 60_000);
});
