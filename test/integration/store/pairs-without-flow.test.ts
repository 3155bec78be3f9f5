import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { changedPairs, currentHorizon } from '../../../src/store/change-reads.js';
import { awaitHorizonPastNow } from '../../helpers/horizon.js';
import { openStateStore } from '../../../src/store/db.js';
import { getPair, listPairs, searchPairs } from '../../../src/store/pair-reads.js';
import { PairStore } from '../../../src/store/pairs.js';
import { applyTenantIsolation } from '../../../src/store/tenant-isolation.js';
import { issueNamespaceCredential, namespaceStateUrl } from '../../../src/store/tenant-roles.js';
import { TwoWayPairs, categoryCounts } from '../../../src/store/two-way-pairs.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { migratedBefore } from '../../helpers/migrations.js';
import { nonSuperuserOwner } from '../../helpers/state-owner.js';

/**
 * Migration 0020 drops flow and entity from ferry.pairs: a pair names its flow entity through its
 * scope (ferry.pair_scopes). Pairs written under 0019 (flow and entity on the row, the namespace
 * policy reading them) are read, streamed, listed, watched and kept apart by namespace after it.
 */
const write = (sourceKey: string, targetKey: string) => ({ sourceKey, targetKey, sourceHash: `h-${sourceKey}`, targetHash: `t-${sourceKey}`, sourceCursor: null });
const at = (p: { flow: string; entity: string; sourceKey: string }) => `${p.flow}:${p.entity}:${p.sourceKey}`;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('pairs without flow and entity (migration 0020)', () => {
  it('keeps the pairs written under 0019: the store reads, streams, lists and watches them by scope, and each namespace sees and writes only its own', async () => {
    const ownerUrl = await nonSuperuserOwner(await freshDatabase('pairs_without_flow'));
    // A state database of the release before: migrated to 0019, its policies in place (the namespace
    // policy of ferry.pairs then read the row's flow), a role per namespace.
    await migratedBefore(ownerUrl, '0020_');
    const credentials = await withClient(ownerUrl, async (c) => {
      await applyTenantIsolation(c);
      return { crm: await issueNamespaceCredential(c, 'crm'), hr: await issueNamespaceCredential(c, 'hr') };
    });
    const { before, conflictsFrom } = await withClient(ownerUrl, async (c) => {
      const before = await currentHorizon(c);
      await c.query(
        `INSERT INTO ferry.pairs (scope, flow, entity, source_key, target_key, source_hash, target_hash, category) VALUES
           (ferry.pair_scope('crm/members', 'people'), 'crm/members', 'people', 'p1', 't1', 'h-p1', 't-p1', 'synchronised'),
           (ferry.pair_scope('crm/members', 'people'), 'crm/members', 'people', 'p2', 't2', 'h-p2', 't-p2', 'conflict'),
           (ferry.pair_scope('crm/members', 'firms'), 'crm/members', 'firms', 'p1', 'f1', 'h-p1', 't-p1', 'synchronised'),
           (ferry.pair_scope('hr/staff', 'people'), 'hr/staff', 'people', 'p1', 's1', 'h-p1', 't-p1', 'synchronised')`,
      );
      // A conflicting field recorded later: a watch from then on reports its pair (found through the scope's flow and entity).
      // Another test's open transaction on the shared server may hold the horizon before the pairs above.
      await awaitHorizonPastNow(c);
      const conflictsFrom = await currentHorizon(c);
      await c.query(
        `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, run_id) VALUES ('crm/members', 'people', 'p2', 'name', 'name', 0, 'r1')`,
      );
      return { before, conflictsFrom };
    });

    const store = await openStateStore(ownerUrl);
    const db = await store.pool.connect();
    const crm = await connect(namespaceStateUrl(ownerUrl, credentials.crm));
    const hr = await connect(namespaceStateUrl(ownerUrl, credentials.hr));
    try {
      const { rows: columns } = await db.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'ferry.pairs'::regclass AND attnum > 0 AND NOT attisdropped`);
      expect(columns.map((c) => c.attname)).not.toEqual(expect.arrayContaining(['flow']));
      expect(columns.map((c) => c.attname)).not.toEqual(expect.arrayContaining(['entity']));

      // The owner's store, by scope.
      const people = new TwoWayPairs(db, 'crm/members', 'people');
      expect(await people.count()).toBe(2);
      expect([...(await people.bySourceKeys(['p1', 'p2']))].map(([k, p]) => [k, p.targetKey, p.category])).toEqual([
        ['p1', 't1', 'synchronised'],
        ['p2', 't2', 'conflict'],
      ]);
      const streamed: (string | null)[][] = [];
      for await (const row of people.streamByTargetKey(db)) streamed.push(row);
      expect(streamed).toEqual([
        ['t1', 'p1', 't-p1'],
        ['t2', 'p2', 't-p2'],
      ]);
      expect(Object.fromEntries(await categoryCounts(db, 'crm/members'))).toEqual({ people: { synchronised: 1, conflict: 1 }, firms: { synchronised: 1 } });

      // The data API's reads name each pair's flow and entity.
      expect((await listPairs(db, { limit: 10 })).map(at)).toEqual(['crm/members:firms:p1', 'crm/members:people:p1', 'crm/members:people:p2', 'hr/staff:people:p1']);
      expect((await listPairs(db, { limit: 10, flowName: 'staff' })).map((p) => [at(p), p.targetKey, p.category])).toEqual([['hr/staff:people:p1', 's1', 'synchronised']]);
      expect(await getPair(db, { flow: 'crm/members', entity: 'people', sourceKey: 'p2' })).toMatchObject({ flow: 'crm/members', entity: 'people', targetKey: 't2', category: 'conflict' });
      expect(await getPair(db, { flow: 'crm/members', entity: 'people', sourceKey: 'p9' })).toBeUndefined();
      expect((await searchPairs(db, { namespace: 'crm', limit: 10 }, 'F1')).records.map(at)).toEqual(['crm/members:firms:p1']);
      await awaitHorizonPastNow(db);
      expect((await changedPairs(db, { namespace: 'crm' }, before)).changed.map(at)).toEqual(['crm/members:firms:p1', 'crm/members:people:p1', 'crm/members:people:p2']);
      expect((await changedPairs(db, { flow: 'crm/members', entity: 'people' }, conflictsFrom)).changed.map(at)).toEqual(['crm/members:people:p2']);

      // A namespace's role: its own flows' pairs only, read and written.
      expect((await crm.query(`SELECT count(*)::int AS n FROM ferry.pairs`)).rows).toEqual([{ n: 3 }]);
      expect((await hr.query(`SELECT source_key, target_key FROM ferry.pairs`)).rows).toEqual([{ source_key: 'p1', target_key: 's1' }]);
      expect((await listPairs(crm, { limit: 10 })).map(at)).toEqual(['crm/members:firms:p1', 'crm/members:people:p1', 'crm/members:people:p2']);
      expect(await new PairStore(crm, 'hr/staff', 'people').count()).toBe(0);
      await new PairStore(crm, 'crm/members', 'firms').insertNew([write('p2', 'f2')]);
      expect(await new PairStore(db, 'crm/members', 'firms').allKeys(db, 'source')).toEqual(new Map([['p1', 'f1'], ['p2', 'f2']]));
      const scopeOfHr = (await db.query(`SELECT id FROM ferry.pair_scopes WHERE flow = 'hr/staff'`)).rows[0].id as number;
      await expect(crm.query(`INSERT INTO ferry.pairs (scope, source_key, target_key) VALUES ($1, 'p7', 'x')`, [scopeOfHr])).rejects.toMatchObject({ code: '42501' });
      await expect(crm.query(`UPDATE ferry.pairs SET scope = $1 WHERE source_key = 'p2'`, [scopeOfHr])).rejects.toMatchObject({ code: '42501' });
      expect((await crm.query(`DELETE FROM ferry.pairs WHERE scope = $1`, [scopeOfHr])).rowCount).toBe(0);

      // A deletion is recorded with the pair's flow and entity (the trigger reads them from the scope), for its namespace's watch.
      await awaitHorizonPastNow(db);
      const deletedFrom = await currentHorizon(db);
      await new PairStore(crm, 'crm/members', 'people').remove(['p1']);
      await awaitHorizonPastNow(db);
      const deleted = (await changedPairs(crm, { namespace: 'crm' }, deletedFrom)).deleted;
      expect(deleted.map((p) => [at(p), p.targetKey, p.category])).toEqual([['crm/members:people:p1', 't1', 'synchronised']]);
      expect((await changedPairs(hr, { namespace: 'hr' }, deletedFrom)).deleted).toEqual([]);
      expect(await people.count()).toBe(1);
    } finally {
      db.release();
      await Promise.all([crm.end(), hr.end()]);
      await store.close();
    }
  });
});
