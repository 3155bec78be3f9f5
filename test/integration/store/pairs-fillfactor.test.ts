import { describe, expect, it } from 'vitest';
import { PairStore } from '../../../src/store/pairs.js';
import { freshStateClients } from '../../helpers/state-client.js';

/**
 * ferry.pairs leaves a tenth of each page free (migration 0022): a run's update of a pair changes no
 * indexed column, so its new version stays on the page (a heap-only tuple) and neither the primary
 * key nor the target-key index gets an entry. Checked on the server's own count of such updates.
 */
const PAIRS = 20_000;
const UPDATED = 2_000;

const key = (i: number) => `E${i}`;

describe('pairs updated by a run', () => {
  const stateClient = freshStateClients();

  it('stay on their page: every update of hashes, cursor and time is heap-only, on pages a COPY filled', async () => {
    const client = await stateClient('pairs_fillfactor');
    const { rows: options } = await client.query(`SELECT reloptions FROM pg_class WHERE oid = 'ferry.pairs'::regclass`);
    expect(options[0].reloptions).toContain('fillfactor=90');

    const pairs = new PairStore(client, 'hr/payroll', 'employees');
    await pairs.insertNew(Array.from({ length: PAIRS }, (_, i) => ({ sourceKey: key(i), targetKey: `t${i}`, sourceHash: 'a'.repeat(32), targetHash: 'b'.repeat(32), sourceCursor: `000000000001:${String(i).padStart(12, '0')}` })));
    // Spread over the table: one pair in ten, as a day's changes are.
    const changed = Array.from({ length: UPDATED }, (_, n) => n * (PAIRS / UPDATED) + 3);
    await client.query('SELECT pg_stat_reset_single_table_counters($1::regclass)', ['ferry.pairs']);
    await pairs.upsert(changed.map((i) => ({ sourceKey: key(i), targetKey: `t${i}`, sourceHash: 'c'.repeat(32), targetHash: 'd'.repeat(32), sourceCursor: `000000000002:${String(i).padStart(12, '0')}` })));
    await client.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await client.query(`SELECT n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relid = 'ferry.pairs'::regclass`);
    expect(rows[0]).toEqual({ updated: UPDATED, hot: UPDATED });

    const { rows: read } = await client.query(`SELECT count(*)::int AS n FROM ferry.pairs WHERE source_hash = $1`, ['c'.repeat(32)]);
    expect(read[0].n).toBe(UPDATED);
  });
});
