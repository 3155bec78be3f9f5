import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { changedExportFiles, changedPairs, changedRuns, currentHorizon } from '../../../src/store/change-reads.js';
import { openStateStore } from '../../../src/store/db.js';
import { freshDatabase } from '../../helpers/databases.js';
import { awaitHorizonPastNow } from '../../helpers/horizon.js';

const insertPair = (db: pg.Pool | pg.PoolClient, flow: string, key: string, category = 'synchronised') =>
  db.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $2, $3)`, [flow, key, category]);

async function keysOf(pool: pg.Pool, since: number, scope = { namespace: 'crm' }) {
  const changes = await changedPairs(pool, scope, since);
  return { horizon: changes.horizon, changed: changes.changed.map((p) => `${p.sourceKey}:${p.category}`), deleted: changes.deleted.map((p) => p.sourceKey) };
}

/**
 * The changes since `since` up to this test's last write, in one window. Other tests share the
 * server, and a transaction of theirs still open holds the horizon back (events wait, they are not
 * lost), so the window is read once the horizon has passed the last write.
 */
async function settled(pool: pg.Pool, since: number, scope = { namespace: 'crm' }) {
  await awaitHorizonPastNow(pool);
  return keysOf(pool, since, scope);
}

describe('change reads (watches on the data API)', () => {
  it('reports rows written since a horizon, once, and deletions from the trigger, scoped to the namespace', async () => {
    const store = await openStateStore(await freshDatabase('change_reads'));
    const db = store.pool;
    try {
      await insertPair(db, 'crm/members', 'a');
      await insertPair(db, 'crm/members', 'b');
      const start = (await settled(db, await currentHorizon(db))).horizon;
      expect(await keysOf(db, start)).toMatchObject({ changed: [], deleted: [] });

      await insertPair(db, 'crm/members', 'c', 'new');
      await db.query(`UPDATE ferry.pairs SET category = 'conflict' WHERE source_key = 'a'`);
      await db.query(`DELETE FROM ferry.pairs WHERE source_key = 'b'`);
      await insertPair(db, 'other/members', 'z');
      const first = await settled(db, start);
      expect(first.changed).toEqual(['a:conflict', 'c:new']);
      expect(first.deleted).toEqual(['b']);
      // Nothing is reported twice: the next window starts at the returned horizon.
      expect((await keysOf(db, first.horizon)).changed).toEqual([]);

      // A conflict field recorded for a pair whose row did not change still changes the pair.
      await db.query(
        `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, source_value, target_value, run_id)
         VALUES ('crm/members', 'people', 'a', 'email', 'email', 0, 'x', 'y', 'r1')`,
      );
      const second = await settled(db, first.horizon);
      expect(second.changed).toEqual(['a:conflict']);
      expect((await settled(db, start, { namespace: 'other' })).changed).toEqual(['z:synchronised']);
    } finally {
      await store.close();
    }
  });

  it('holds back changes of a transaction that is still open when the horizon is taken', async () => {
    const store = await openStateStore(await freshDatabase('change_reads_open'));
    const db = store.pool;
    const slow = await db.connect();
    try {
      // The flow entity's pair scope exists (Ferry creates it once, with its first pairs): two
      // transactions creating the same scope would wait for each other, not the point here.
      await insertPair(db, 'crm/members', 'first');
      // Another test's open transaction on the shared server may hold the horizon before 'first'.
      const start = (await settled(db, await currentHorizon(db))).horizon;
      await slow.query('BEGIN');
      await insertPair(slow, 'crm/members', 'slow');
      await insertPair(db, 'crm/members', 'fast');
      // The open transaction began first: nothing after it is reported yet, so 'fast' cannot be
      // reported and then 'slow' (an older transaction id) be skipped by the next window.
      const during = await keysOf(db, start);
      expect(during.changed).toEqual([]);
      await slow.query('COMMIT');
      const after = await settled(db, during.horizon);
      expect(after.changed.sort()).toEqual(['fast:synchronised', 'slow:synchronised']);
    } finally {
      slow.release();
      await store.close();
    }
  });

  it('runs and export files: a heartbeat or a transfer outcome changes the object', async () => {
    const store = await openStateStore(await freshDatabase('change_reads_runs'));
    const db = store.pool;
    try {
      await db.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('r1', 'crm/loyalty', 'Full', 'Running')`);
      await db.query(`INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location) VALUES ('f1', 'r1', 'crm/loyalty', 'people', 1, 'p.csv', 1, 1, 'ab', 'db')`);
      const start = (await settled(db, await currentHorizon(db))).horizon;
      await db.query(`UPDATE ferry.runs SET status = 'Succeeded' WHERE id = 'r1'`);
      await db.query(`INSERT INTO ferry.export_transfers (run_id, file_id, target, status, attempts) VALUES ('r1', 'f1', 'partner', 'transferred', 1)`);
      await settled(db, start);
      const runs = await changedRuns(db, { namespace: 'crm' }, start);
      expect(runs.changed.map((r) => `${r.id}:${r.status}`)).toEqual(['r1:Succeeded']);
      const files = await changedExportFiles(db, { namespace: 'crm' }, start);
      expect(files.changed.map((f) => f.transfers.map((t) => t.status))).toEqual([['transferred']]);
      expect((await changedExportFiles(db, { namespace: 'crm' }, files.horizon)).changed).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
