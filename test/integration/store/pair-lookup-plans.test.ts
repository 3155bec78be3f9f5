import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Row } from '../../../src/engine/connector.js';
import { joinWithPairs } from '../../../src/engine/key-join.js';
import { openStateStore, type StateStore } from '../../../src/store/db.js';
import { PairStore } from '../../../src/store/pairs.js';
import { pairStatisticsFit, refreshPairStatistics } from '../../../src/store/pairs-statistics.js';
import { SeenKeys, type ScanStage } from '../../../src/store/scan-stage.js';
import { freshDatabase } from '../../helpers/databases.js';

/**
 * A day-2 Full run moments after the first import bulk-loaded a flow's pairs: ferry.pairs has not
 * been analysed, and the planner puts the flow's pairs at one. Look-ups of a file's keys must then
 * probe the primary key per key (a plan that read every pair for each chunk once hung a run), or
 * not be made. Checked on the plans (EXPLAIN), not on time.
 */
const PAIRS = 60_000;
const FLOW = 'ns/day2';
const ENTITY = 'people';

interface PlanNode {
  'Node Type': string;
  'Join Type'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(client: pg.ClientBase, sql: string): Promise<PlanNode[]> {
  const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`);
  return nodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode);
}

/** `[node type, index]` of the nodes reading ferry.pairs. */
function pairScans(all: PlanNode[]): PlanNode[] {
  return all.filter((node) => node['Relation Name'] === 'pairs');
}

function key(i: number): string {
  return String(i).padStart(12, '0');
}

/** The SQL a pairs stream runs with this stage. */
async function sqlOf(pairs: PairStore, client: pg.ClientBase, stage: ScanStage): Promise<string> {
  let sql = '';
  const capture: ScanStage = {
    joinSql: (query, column) => {
      sql = stage.joinSql(query, column);
      return 'SELECT 1 WHERE false';
    },
  };
  for await (const _ of pairs.streamBySourceKey(client, capture));
  return sql;
}

/** The flow entity's pairs are selected by its scope (bulkLoaded checks it is 1, the first one of a fresh database). */
const ANY_LOOKUP = `SELECT * FROM ferry.pairs WHERE scope = 1 AND source_key = ANY(ARRAY[${Array.from({ length: 200 }, (_, i) => `'${key(i * 7)}'`).join(',')}])`;

describe('pair look-ups by key, on a pairs table bulk-loaded moments ago and not analysed', () => {
  let store: StateStore | undefined;
  let client: pg.PoolClient | undefined;

  /** A state DB whose pairs hold PAIRS pairs of one flow, bulk-loaded as a first import does, with autovacuum off. */
  async function bulkLoaded(): Promise<{ client: pg.PoolClient; pairs: PairStore }> {
    store = await openStateStore(await freshDatabase('pair_lookup_plans'));
    client = await store.pool.connect();
    await client.query('ALTER TABLE ferry.pairs SET (autovacuum_enabled = false)');
    const pairs = new PairStore(client, FLOW, ENTITY);
    await pairs.insertNew(Array.from({ length: PAIRS }, (_, i) => ({ sourceKey: key(i), targetKey: key(i), sourceHash: 'h', targetHash: 't', sourceCursor: null })));
    // The load's counts reach the statistics now, not at some idle moment after the ANALYZE a test makes.
    await client.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await client.query(`SELECT reltuples FROM pg_class WHERE oid = 'ferry.pairs'::regclass`);
    expect(rows[0].reltuples).toBeLessThan(0);
    // The regime that hung a run: the flow put at a handful of pairs.
    expect((await client.query(`SELECT id FROM ferry.pair_scopes WHERE flow = $1 AND entity = $2`, [FLOW, ENTITY])).rows).toEqual([{ id: 1 }]);
    expect((await plan(client, `SELECT * FROM ferry.pairs WHERE scope = 1`))[0]!['Plan Rows']).toBeLessThan(PAIRS / 100);
    return { client, pairs };
  }

  afterEach(async () => {
    client?.release();
    await store?.close();
    client = store = undefined;
  });

  for (const versions of [false, true]) {
    it(`analyses the pairs before looking them up, and a chunk of keys${versions ? ' with their hashes' : ''} is then looked up by probing the primary key per key`, async () => {
      const { client, pairs } = await bulkLoaded();
      expect(await pairStatisticsFit(client, FLOW, ENTITY, PAIRS)).toBe(true);
      const seen = await SeenKeys.create(client);
      const keys = Array.from({ length: 5_000 }, (_, i) => key(i * 3));
      const same = (pair: string, hash: string) => pairs.unchangedSourceSql(pair, hash);
      const stage = await seen.add(keys, versions ? { values: keys.map(() => 'h'), same } : undefined);
      const all = await plan(client, await sqlOf(pairs, client, stage));
      const scans = pairScans(all);
      expect(scans.map((node) => [node['Node Type'], node['Index Name']])).toEqual([['Index Scan', 'pairs_scope_source_key_pk']]);
      expect(scans[0]!['Index Cond']).toContain('source_key');
      expect(all[0]!['Node Type']).toBe('Nested Loop');
      await seen.drop();
    });
  }

  it('finds the vanished pairs with a hash or merge join, never a loop over one side per row of the other, even unanalysed', async () => {
    const { client, pairs } = await bulkLoaded();
    const seen = await SeenKeys.create(client);
    await seen.add(Array.from({ length: 50_000 }, (_, i) => key(i)));
    const all = await plan(client, await sqlOf(pairs, client, await seen.vanished()));
    expect(all.some((node) => node['Node Type'] === 'Nested Loop')).toBe(false);
    expect(all.some((node) => node['Join Type'] === 'Full')).toBe(true);
    await seen.drop();
  });

  for (const versions of [false, true]) {
    it(`reads a chunk of keys in key order${versions ? ' with their hashes' : ''} by one range scan of the primary key, joined by a hash or merge join, even unanalysed; the vanished by that key and range too`, async () => {
      const { client, pairs } = await bulkLoaded();
      const seen = await SeenKeys.create(client);
      const same = (pair: string, hash: string) => pairs.unchangedSourceSql(pair, hash);
      // Two chunks in key order (every third key): the pairs between their keys are "gone".
      for (const from of [0, 15_000]) {
        const keys = Array.from({ length: 5_000 }, (_, i) => key(from + i * 3));
        const stage = await seen.add(keys, versions ? { values: keys.map(() => 'h'), same } : undefined, true);
        const all = await plan(client, await sqlOf(pairs, client, stage));
        // Read once, through the primary key by range (an index scan, or a bitmap scan of it).
        expect(pairScans(all).map((node) => node['Node Type'])).toHaveLength(1);
        expect(pairScans(all)[0]!['Node Type']).not.toBe('Seq Scan');
        const range = all.filter((node) => node['Index Name'] === 'pairs_scope_source_key_pk');
        expect(range).toHaveLength(1);
        expect(range[0]!['Index Cond']).toMatch(from === 0 ? /source_key <= / : /source_key > .*source_key <= /);
        expect(all.some((node) => node['Node Type'] === 'Nested Loop')).toBe(false);
        expect(all.some((node) => node['Join Type'] === 'Full')).toBe(true);
        // Streamed, as a run does: its "gone" keys are stored.
        for await (const _ of pairs.streamBySourceKey(client, stage));
      }
      // A probe per stored key, and the range above the last chunk: the pairs are never read whole.
      const vanished = await plan(client, await sqlOf(pairs, client, await seen.vanished()));
      expect(pairScans(vanished).map((node) => node['Node Type'])).not.toContain('Seq Scan');
      const byKey = vanished.filter((node) => node['Index Name'] === 'pairs_scope_source_key_pk');
      expect(byKey.map((node) => node['Index Cond'])).toEqual([expect.stringMatching(/source_key = /), expect.stringMatching(/source_key > /)]);
      await seen.drop();
    });
  }

  for (const ours of [true, false]) {
    it(`joins a day-2 side in its own order ${ours ? 'through look-ups' : 'staged, when the role may not analyse the pairs'}: each row with its pair, new rows alone, then the vanished pairs`, async () => {
      const { client, pairs } = await bulkLoaded();
      const role = `ferry_lookup_reader_${process.pid}`;
      if (!ours) {
        await client.query(`CREATE ROLE ${role}`);
        await client.query(`GRANT USAGE ON SCHEMA ferry TO ${role}; GRANT SELECT ON ferry.pairs, ferry.pair_scopes TO ${role}; GRANT TEMPORARY ON DATABASE "${client.database}" TO ${role}`);
        await client.query(`ALTER TABLE ferry.pairs NO FORCE ROW LEVEL SECURITY; ALTER TABLE ferry.pairs DISABLE ROW LEVEL SECURITY`);
        await client.query(`ALTER TABLE ferry.pair_scopes NO FORCE ROW LEVEL SECURITY; ALTER TABLE ferry.pair_scopes DISABLE ROW LEVEL SECURITY`);
        await client.query(`SET ROLE ${role}`);
        expect(await refreshPairStatistics(client)).toBe('stale, not ours to analyse');
      }
      try {
        // Keys 0..59999 paired; the side gives 69999 down to 10000: 10000 vanished, 10000 new.
        const side = Array.from({ length: 60_000 }, (_, i) => [key(69_999 - i)] as Row);
        async function* rows(): AsyncGenerator<Row> {
          yield* side;
        }
        let paired = 0;
        let alone = 0;
        let streams = 0;
        const vanished: string[] = [];
        const order: string[] = [];
        for await (const { left, right } of joinWithPairs<Row>(
          { rows: rows(), ordered: false, uniqueKeys: true, key: (row) => row[0]!, toRow: (row) => row, fromRow: (row) => row },
          {
            stream: (stage) => (streams++, pairs.streamBySourceKey(client, stage)),
            key: (pair) => pair[0]!,
            fitForLookups: (count) => pairStatisticsFit(client, FLOW, ENTITY, count),
          },
          client,
          { pairsInMemory: 1_000, lookupRows: 5_000 },
        )) {
          if (left) order.push(left[0]!);
          if (left && right) {
            expect(right[0]).toBe(left[0]);
            paired++;
          } else if (left) {
            alone++;
          } else {
            vanished.push(right![0]!);
          }
        }
        expect({ paired, alone, vanished: vanished.length }).toEqual({ paired: 50_000, alone: 10_000, vanished: 10_000 });
        expect(vanished).toEqual(Array.from({ length: 10_000 }, (_, i) => key(i)));
        // Looked up: the side's order, a stream per chunk (and the count, and the vanished). Staged: key order, two streams.
        expect(order).toEqual(ours ? side.map((row) => row[0]) : side.map((row) => row[0]).sort());
        expect(streams).toBe(ours ? 2 + 60_000 / 5_000 : 2);
      } finally {
        if (!ours) {
          await client.query('RESET ROLE');
          await client.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
        }
      }
    });
  }

  it('analyses stale pairs after a bulk load, after which look-ups by `key = ANY(...)` (the Incremental path) use the primary key', async () => {
    const { client } = await bulkLoaded();
    const keyInIndex = async () => pairScans(await plan(client, ANY_LOOKUP)).some((node) => (node['Index Cond'] ?? '').includes('source_key'));
    // Before: the flow read whole, the keys in a filter.
    expect(await keyInIndex()).toBe(false);
    expect(await refreshPairStatistics(client)).toBe('analysed');
    expect(await refreshPairStatistics(client)).toBe('fresh');
    expect(await keyInIndex()).toBe(true);
  });
});
