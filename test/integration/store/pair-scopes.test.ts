import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { SEARCH_SCAN_ROWS } from '../../../src/store/bounded-search.js';
import { getPair, listPairs, searchPairs } from '../../../src/store/pair-reads.js';
import { PairStore } from '../../../src/store/pairs.js';
import { TwoWayPairs, categoryCounts } from '../../../src/store/two-way-pairs.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { migratedBefore } from '../../helpers/migrations.js';

/**
 * ferry.pairs is keyed by a small integer per flow entity (ferry.pair_scopes, migration 0018) instead
 * of (flow, entity): pairs written before convert in place, and a scope made in a transaction that
 * rolls back is never used after it.
 */
const write = (sourceKey: string, targetKey: string) => ({ sourceKey, targetKey, sourceHash: `h-${sourceKey}`, targetHash: `t-${sourceKey}`, sourceCursor: null });

describe('pair scopes', () => {
  it('converts the pairs written before migration 0018 in place: every flow entity gets a scope, and the store reads and writes them by it', async () => {
    const url = await freshDatabase('pair_scopes_0018');
    await migratedBefore(url, '0018_');
    await withClient(url, async (c) => {
      // As a run before 0018 wrote them: (flow, entity) on every row, two flows, one with two entities.
      await c.query(
        `INSERT INTO ferry.pairs (flow, entity, source_key, target_key, source_hash, target_hash, category) VALUES
           ('crm/members', 'people', 'p1', 't1', 'h-p1', 't-p1', 'synchronised'), ('crm/members', 'people', 'p2', 't2', 'h-p2', 't-p2', 'conflict'),
           ('crm/members', 'firms', 'p1', 'f1', 'h-p1', 't-p1', 'synchronised'), ('hr/staff', 'people', 'p1', 's1', 'h-p1', 't-p1', 'synchronised')`,
      );
    });
    const store = await openStateStore(url);
    const db = await store.pool.connect();
    try {
      const { rows: scopes } = await db.query(`SELECT flow, entity FROM ferry.pair_scopes ORDER BY id`);
      expect(scopes).toEqual([
        { flow: 'crm/members', entity: 'firms' },
        { flow: 'crm/members', entity: 'people' },
        { flow: 'hr/staff', entity: 'people' },
      ]);
      const { rows: keys } = await db.query(
        `SELECT i.relname AS index, pg_get_indexdef(i.oid) AS definition FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          WHERE x.indrelid = 'ferry.pairs'::regclass ORDER BY 1`,
      );
      expect(keys.map((k) => `${k.index}: ${k.definition.replace(/^.* USING btree /, '')}`)).toEqual([
        // Migration 0021: the gone pairs alone.
        'pairs_gone_idx: (scope, source_key) WHERE (source_gone_at IS NOT NULL)',
        'pairs_scope_source_key_pk: (scope, source_key)',
        'pairs_target_key_idx: (scope, target_key)',
      ]);

      const people = new TwoWayPairs(db, 'crm/members', 'people');
      expect(await people.count()).toBe(2);
      expect([...(await people.bySourceKeys(['p1', 'p2']))].map(([k, p]) => [k, p.targetKey, p.category])).toEqual([
        ['p1', 't1', 'synchronised'],
        ['p2', 't2', 'conflict'],
      ]);
      expect(await people.otherKeys('target', ['t2', 'f1'])).toEqual(new Map([['t2', 'p2']]));
      const streamed: (string | null)[][] = [];
      for await (const row of people.streamBySourceKey(db)) streamed.push(row);
      expect(streamed).toEqual([
        ['p1', 't1', 'h-p1', 't-p1', 'f'],
        ['p2', 't2', 'h-p2', 't-p2', 'f'],
      ]);
      // Written after the migration: a new pair and an update of an old one, both under the converted scope.
      await people.insertNew([write('p3', 't3')]);
      await people.upsert([write('p1', 't9')]);
      expect((await people.bySourceKeys(['p1', 'p3'])).get('p1')!.targetKey).toBe('t9');
      expect(await people.count()).toBe(3);
      expect(await new PairStore(db, 'hr/staff', 'people').allKeys(db, 'source')).toEqual(new Map([['p1', 's1']]));
      expect(await new PairStore(db, 'hr/staff', 'firms').count()).toBe(0);

      expect(Object.fromEntries(await categoryCounts(db, 'crm/members'))).toEqual({ people: { synchronised: 2, conflict: 1 }, firms: { synchronised: 1 } });
      expect((await listPairs(db, { namespace: 'crm', limit: 10 })).map((p) => `${p.entity}:${p.sourceKey}`)).toEqual(['firms:p1', 'people:p1', 'people:p2', 'people:p3']);
      expect((await listPairs(db, { limit: 2, after: { flow: 'crm/members', entity: 'people', sourceKey: 'p2' } })).map((p) => `${p.flow}:${p.sourceKey}`)).toEqual([
        'crm/members:p3',
        'hr/staff:p1',
      ]);
      expect((await getPair(db, { flow: 'crm/members', entity: 'firms', sourceKey: 'p1' }))?.targetKey).toBe('f1');
    } finally {
      db.release();
      await store.close();
    }
  });

  it("searches one window of pairs across the flow entities' scopes, in (flow, entity, source_key) order", async () => {
    const store = await openStateStore(await freshDatabase('pair_scopes_search'));
    const db = await store.pool.connect();
    try {
      const half = SEARCH_SCAN_ROWS * 0.6;
      const key = (i: number) => `k${String(i).padStart(6, '0')}`;
      // Entity 'a' (first in list order) has no hit; 'b' has one at each tenth key.
      for (const entity of ['b', 'a']) {
        await new PairStore(db, 'crm/members', entity).insertNew(
          Array.from({ length: half }, (_, i) => ({ ...write(key(i), entity === 'b' && i % 10 === 0 ? `needle-${i}` : `t${i}`) })),
        );
      }
      const first = await searchPairs(store.pool, { flow: 'crm/members', limit: 1000 }, 'needle');
      // The window ends in 'b', after SEARCH_SCAN_ROWS rows in all: the hits of 'b' up to there, and where to go on.
      const inB = SEARCH_SCAN_ROWS - half;
      expect(first.records.map((p) => `${p.entity}:${p.sourceKey}`)).toEqual(Array.from({ length: inB / 10 }, (_, i) => `b:${key(i * 10)}`));
      expect(first.scanEnd).toEqual({ flow: 'crm/members', entity: 'b', sourceKey: key(inB - 1) });
      const rest = await searchPairs(store.pool, { flow: 'crm/members', limit: 1000, after: first.scanEnd }, 'needle');
      expect(rest.records.map((p) => p.sourceKey)).toEqual(Array.from({ length: (half - inB) / 10 }, (_, i) => key(inB + i * 10)));
      expect(rest.scanEnd).toBeUndefined();
    } finally {
      db.release();
      await store.close();
    }
  });

  it('does not keep a scope made in a transaction that was rolled back', async () => {
    const store = await openStateStore(await freshDatabase('pair_scopes_rollback'));
    const db = await store.pool.connect();
    const other = await store.pool.connect();
    try {
      const pairs = new PairStore(db, 'crm/members', 'people');
      await db.query('BEGIN');
      await pairs.insertNew([write('p1', 't1')]);
      await db.query('ROLLBACK');
      // The scope went with the transaction: the next pairs make it again, and other sessions see them.
      await pairs.insertNew([write('p2', 't2')]);
      expect(await new PairStore(other, 'crm/members', 'people').allKeys(other, 'source')).toEqual(new Map([['p2', 't2']]));

      // New pairs built under a scope whose transaction then rolled back are refused, not written under a lost id.
      const fresh = new PairStore(db, 'crm/members', 'firms');
      await db.query('BEGIN');
      const built = await fresh.newPairs();
      await db.query('ROLLBACK');
      built.add('f1', 'g1', null, null, null);
      await db.query('BEGIN');
      await expect(fresh.insertNewPairs(built)).rejects.toThrow(/rolled back while a batch was built/);
      await db.query('ROLLBACK');
      expect(await new PairStore(other, 'crm/members', 'firms').count()).toBe(0);
    } finally {
      db.release();
      other.release();
      await store.close();
    }
  });
});
