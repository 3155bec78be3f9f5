import { describe, expect, it } from 'vitest';
import { PairStore } from '../../../src/store/pairs.js';
import { pairStatisticsFit, refreshPairStatistics } from '../../../src/store/pairs-statistics.js';
import { freshStateClients } from '../../helpers/state-client.js';

/**
 * After a bulk load Ferry analyses ferry.pairs with a small sample (3,000 rows, not the default
 * 30,000): enough to count each flow entity's pairs and see every key distinct, at a fraction of the
 * pages read. Checked on what the statistics hold: a small histogram, each flow entity planned at
 * about its real count among many, and the session's setting back to the server's afterwards.
 */
const ENTITIES = 24;
const key = (entity: number, i: number) => `k${entity}-${String(i).padStart(7, '0')}`;

describe('the statistics of ferry.pairs after a load', () => {
  const stateClient = freshStateClients();

  it('come from a small sample that still counts every flow entity\'s pairs about right', async () => {
    const client = await stateClient('pairs_statistics_sample');
    await client.query('ALTER TABLE ferry.pairs SET (autovacuum_enabled = false)');
    // One large flow entity among many small ones, as a shared state DB has them.
    const sizes = Array.from({ length: ENTITIES }, (_, e) => (e === 5 ? 60_000 : 800 + 40 * e));
    for (const [e, size] of sizes.entries()) {
      await new PairStore(client, 'ns/flow', `entity${e}`).insertNew(
        Array.from({ length: size }, (_, i) => ({ sourceKey: key(e, i), targetKey: key(e, i), sourceHash: 'h', targetHash: 't', sourceCursor: null })),
      );
    }
    const written = sizes.reduce((a, b) => a + b, 0);
    const before = (await client.query('SHOW default_statistics_target')).rows[0].default_statistics_target;

    expect(await refreshPairStatistics(client, written)).toBe('analysed');

    const { rows } = await client.query(`SELECT attname, histogram_bounds::text AS bounds, n_distinct FROM pg_stats WHERE schemaname = 'ferry' AND tablename = 'pairs' AND attname IN ('source_key', 'scope')`);
    const stats = new Map(rows.map((r) => [r.attname as string, r]));
    // A histogram of at most 11 bounds is that of a 3,000-row sample (the default gives 101).
    const bounds = (stats.get('source_key')!.bounds as string).split(',').length;
    expect(bounds).toBeGreaterThan(1);
    expect(bounds).toBeLessThanOrEqual(11);
    // Every key distinct (n_distinct -1: as many as rows), from the sample alone.
    expect(Number(stats.get('source_key')!.n_distinct)).toBe(-1);
    // The large entity is planned near its real count, so its look-ups by key probe the primary key.
    expect(await pairStatisticsFit(client, 'ns/flow', 'entity5', 60_000)).toBe(true);
    const bigScope = (await client.query(`SELECT id FROM ferry.pair_scopes WHERE entity = 'entity5'`)).rows[0].id;
    const bigPlanned = (await client.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ferry.pairs WHERE scope = $1`, [bigScope])).rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
    expect(bigPlanned).toBeGreaterThan(60_000 * 0.7);
    expect(bigPlanned).toBeLessThan(60_000 * 1.3);

    expect((await client.query('SHOW default_statistics_target')).rows[0].default_statistics_target).toBe(before);
  });
});
