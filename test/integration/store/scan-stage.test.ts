import { describe, expect, it } from 'vitest';
import { joinChunksWithPairs, joinWithPairs, SAME_VERSION_PAIR } from '../../../src/engine/key-join.js';
import type { Row } from '../../../src/engine/connector.js';
import { copyOutRows } from '../../../src/util/copy-out.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

/** Pairs as a query the stage joins with: `[k, other]`, keys under collation "C" like ferry.pairs. */
const PAIRS = `SELECT k COLLATE "C" AS k, other FROM (VALUES ('b', 'pair b'), ('d', 'pair d'), ('e', 'pair e')) AS v(k, other)`;

/**
 * `[key, version]` chunks joined with the pairs of `pairs` (columns k, v) through look-ups, two rows
 * per look-up and no pairs held in memory.
 */
function lookUpChunks(client: Parameters<typeof copyOutRows>[0], pairs: string, chunks: Row[][]) {
  async function* side(): AsyncGenerator<Row[]> {
    yield* chunks;
  }
  return joinChunksWithPairs<Row>(
    { chunks: side(), uniqueKeys: true, key: (row) => row[0]!, version: (row) => row[1]!, toRow: (row) => row, fromRow: (row) => row },
    {
      stream: (stage) => copyOutRows(client, stage ? stage.joinSql(pairs, 'k') : `${pairs} ORDER BY k`),
      key: (pair) => pair[0]!,
      fitForLookups: async () => true,
      sameVersion: (pair, version) => `${pair}.v = ${version}`,
    },
    client,
    { pairsInMemory: 1, lookupRows: 2 },
  );
}

async function* rowsOf(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}

describe('joinWithPairs through the scan stage (a side without key order)', () => {
  it('gives every row and every pair once, in key order, with values as they were: nulls, escapes, a NUL character, a row of another width', async () => {
    const url = await freshDatabase('scan_stage');
    await withClient(url, async (client) => {
      // Out of key order, as a file gives them; the first row sets the width (3) the others are stored in.
      const rows: Row[] = [
        ['d', 'tab\there', 'back\\slash\nnew line'],
        ['a', null, ''],
        ['c', 'nul\u0000inside', 'x'],
        ['b', 'short'],
        ['f', '\\N', 'ü ✓'],
      ];
      const joined = [];
      for await (const match of joinWithPairs<Row>(
        { rows: rowsOf(rows), ordered: false, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
        { stream: (stage) => copyOutRows(client, stage!.joinSql(PAIRS, 'k')), key: (pair) => pair[0]! },
        client,
      )) {
        joined.push(match);
      }
      expect(joined).toEqual([
        { left: ['a', null, ''] },
        { left: ['b', 'short'], right: ['b', 'pair b'] },
        { left: ['c', 'nul\u0000inside', 'x'] },
        { left: ['d', 'tab\there', 'back\\slash\nnew line'], right: ['d', 'pair d'] },
        { right: ['e', 'pair e'] },
        { left: ['f', '\\N', 'ü ✓'] },
      ]);
      const left = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_scan_stage_%'`);
      expect(left.rows[0].n).toBe(0);
    });
  });

  for (const [pairsInMemory, expected] of [
    [3, 'its pairs in memory'],
    [2, 'its pairs looked up two keys at a time, when they are more than the memory bound'],
  ] as const) {
    it(`joins a side that gives each key once in its own order, then the vanished pairs in key order: ${expected}`, async () => {
      const url = await freshDatabase('scan_stage_unique');
      await withClient(url, async (client) => {
        const rows: Row[] = [['d', 'tab\there'], ['a', null], ['f', 'x'], ['b', 'nul\u0000inside'], ['c', 'y']];
        const joined = [];
        for await (const match of joinWithPairs<Row>(
          { rows: rowsOf(rows), ordered: false, uniqueKeys: true, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
          {
            stream: (stage) => copyOutRows(client, stage ? stage.joinSql(PAIRS, 'k') : `${PAIRS} ORDER BY k`),
            key: (pair) => pair[0]!,
            fitForLookups: async () => true,
          },
          client,
          { pairsInMemory, lookupRows: 2 },
        )) {
          joined.push(match);
        }
        const inSideOrder = [
          { left: ['d', 'tab\there'], right: ['d', 'pair d'] },
          { left: ['a', null] },
          { left: ['f', 'x'] },
          { left: ['b', 'nul\u0000inside'], right: ['b', 'pair b'] },
          { left: ['c', 'y'] },
          { right: ['e', 'pair e'] },
        ];
        expect(joined).toEqual(inSideOrder);
        const left = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_seen_keys_%'`);
        expect(left.rows[0].n).toBe(0);
      });
    });
  }

  it('fails a join through look-ups with the error of a side that fails while the next chunk is read ahead', async () => {
    const url = await freshDatabase('scan_stage_lookup_error');
    await withClient(url, async (client) => {
      async function* failing(): AsyncGenerator<Row> {
        yield ['d', 'x'];
        yield ['a', 'y'];
        yield ['f', 'z'];
        throw new Error('the file broke off');
      }
      const taken: Row[] = [];
      const join = joinWithPairs<Row>(
        { rows: failing(), ordered: false, uniqueKeys: true, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
        { stream: (stage) => copyOutRows(client, stage ? stage.joinSql(PAIRS, 'k') : `${PAIRS} ORDER BY k`), key: (pair) => pair[0]!, fitForLookups: async () => true },
        client,
        { pairsInMemory: 1, lookupRows: 2 },
      );
      await expect(
        (async () => {
          for await (const { left } of join) if (left) taken.push(left);
        })(),
      ).rejects.toThrow('the file broke off');
      // The first chunk's rows came out before the read-ahead of the second met the error.
      expect(taken).toEqual([
        ['d', 'x'],
        ['a', 'y'],
      ]);
      // The connection is still usable (no query left half-read on it).
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    });
  });

  it('joins a side without rows: only the pairs come out', async () => {
    const url = await freshDatabase('scan_stage_empty');
    await withClient(url, async (client) => {
      const joined = [];
      for await (const match of joinWithPairs<Row>(
        { rows: rowsOf([]), ordered: false, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
        { stream: (stage) => copyOutRows(client, stage!.joinSql(PAIRS, 'k')), key: (pair) => pair[0]! },
        client,
      )) {
        joined.push(match);
      }
      expect(joined).toEqual([{ right: ['b', 'pair b'] }, { right: ['d', 'pair d'] }, { right: ['e', 'pair e'] }]);
    });
  });

  it('looks a chunk up with its versions: a pair that holds the version of its row stays in the state DB, any other comes back, with keys and versions as they were', async () => {
    const url = await freshDatabase('scan_stage_versions');
    await withClient(url, async (client) => {
      const odd = `q"\\'x`;
      // `[k, v]`: a version, none (null) or an odd one; "f" has no row.
      const pairs = `SELECT k COLLATE "C" AS k, v FROM (VALUES ('b', 'h1'), ('d', NULL), ('e', 'x'), ('f', 'h'), ('${odd.replace(/'/g, "''")}', '${odd.replace(/'/g, "''")}'), ('h', NULL)) AS t(k, v)`;
      const chunks: Row[][] = [
        [['d', 'h'], ['a', 'h'], ['b', 'h1']],
        [[odd, odd], ['c', null], ['e', 'y'], ['h', null]],
      ];
      const matched: (Row | undefined)[][] = [];
      for await (const { left, right } of lookUpChunks(client, pairs, chunks)) {
        for (let i = 0; i < left.length; i++) matched.push([left[i], right[i] === SAME_VERSION_PAIR ? ['same'] : right[i]]);
      }
      expect(matched).toEqual([
        [['d', 'h'], ['d', null]],
        [['a', 'h'], undefined],
        [['b', 'h1'], ['same']],
        [[odd, odd], ['same']],
        [['c', null], undefined],
        [['e', 'y'], ['e', 'x']],
        // Null is never the same version here: the caller compares it.
        [['h', null], ['h', null]],
        [undefined, ['f', 'h']],
      ]);
    });
  });
});

describe('joinChunksWithPairs through look-ups, a side whose chunks come in key order for a while', () => {
  // `[k, v]`: "p" is gone (a vanished pair the caller skips, but one the join gives like any other).
  const pairs = `SELECT k COLLATE "C" AS k, v, k = 'p' AS gone FROM (VALUES ('b', 'h'), ('d', 'h'), ('e', 'h'), ('g', 'h'), ('h', 'h'), ('k', 'h'), ('m', 'h'), ('p', 'h'), ('x', 'h')) AS t(k, v)`;
  const cases: { name: string; chunks: Row[][]; matched: string[]; vanished: string[] }[] = [
    {
      // By range: "b" below the first chunk, "g" and "m" inside a chunk's range, "p" and "x" above the last.
      name: 'in key order to the end: the pairs each chunk\'s key range holds and it does not have, and all above the last key, vanished',
      chunks: [[['c', 'h'], ['d', 'h']], [['e', 'changed'], ['h', 'h']], [['k', 'h'], ['n', 'h']]],
      matched: ['c -', 'd same', 'e e', 'h same', 'k same', 'n -'],
      vanished: ['b', 'g', 'm', 'p', 'x'],
    },
    {
      // "b" was in the first chunk's range and not in it, but comes later, out of order: it never vanished.
      name: 'out of order from the third chunk: a key of an earlier chunk\'s range that comes late is not vanished',
      chunks: [[['c', 'h'], ['d', 'h']], [['e', 'changed'], ['h', 'h']], [['b', 'h'], ['m', 'changed']], [['x', 'h'], ['y', 'h']]],
      matched: ['c -', 'd same', 'e e', 'h same', 'b same', 'm m', 'x same', 'y -'],
      vanished: ['g', 'k', 'p'],
    },
    {
      name: 'out of order from the first chunk: every key stored',
      chunks: [[['d', 'h'], ['c', 'h']], [['e', 'h'], ['h', 'h']]],
      matched: ['d same', 'c -', 'e same', 'h same'],
      vanished: ['b', 'g', 'k', 'm', 'p', 'x'],
    },
  ];
  for (const { name, chunks, matched, vanished } of cases) {
    it(name, async () => {
      const url = await freshDatabase('scan_stage_ordered');
      await withClient(url, async (client) => {
        const got: string[] = [];
        const gone: string[] = [];
        for await (const { left, right } of lookUpChunks(client, pairs, chunks)) {
          for (let i = 0; i < left.length; i++) {
            const pair = right[i];
            if (left[i]) got.push(`${left[i]![0]} ${pair === SAME_VERSION_PAIR ? 'same' : pair ? pair[0] : '-'}`);
            else gone.push(pair![0]!);
          }
        }
        expect(got).toEqual(matched);
        expect(gone).toEqual(vanished);
        const left = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ferry_seen_keys_%' OR tablename LIKE 'ferry_gone_keys_%'`);
        expect(left.rows[0].n).toBe(0);
      });
    });
  }
});

describe('joinChunksWithPairs, a side in key order', () => {
  it('merges the side\'s chunks with the pairs\' stream as both come, without a stage: every row and pair once, in key order', async () => {
    const url = await freshDatabase('ordered_chunks');
    await withClient(url, async (client) => {
      const pairsQuery = `SELECT k COLLATE "C" AS k, other FROM (VALUES ('b', 'pair b'), ('d', 'pair d'), ('e', 'pair e'), ('g', 'pair g')) AS v(k, other) ORDER BY 1`;
      async function* chunks(): AsyncGenerator<Row[]> {
        yield [['a', 'row a']];
        yield [['b', 'row b'], ['c', 'row c']];
        yield [];
        yield [['d', 'row d'], ['f', 'row f']];
      }
      const stages: unknown[] = [];
      const matches: { left?: Row; right?: Row }[] = [];
      for await (const { left, right } of joinChunksWithPairs<Row>(
        { chunks: chunks(), ordered: true, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
        {
          stream: (stage) => {
            stages.push(stage);
            return copyOutRows(client, pairsQuery);
          },
          key: (pair) => pair[0]!,
        },
        client,
      )) {
        expect(left.length).toBe(right.length);
        for (let i = 0; i < left.length; i++) matches.push({ ...(left[i] ? { left: left[i] } : {}), ...(right[i] ? { right: right[i] } : {}) });
      }
      expect(stages).toEqual([undefined]);
      expect(matches).toEqual([
        { left: ['a', 'row a'] },
        { left: ['b', 'row b'], right: ['b', 'pair b'] },
        { left: ['c', 'row c'] },
        { left: ['d', 'row d'], right: ['d', 'pair d'] },
        { right: ['e', 'pair e'] },
        { left: ['f', 'row f'] },
        { right: ['g', 'pair g'] },
      ]);
      // The COPY ended with the join: the connection answers.
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });
});
