import { describe, expect, it } from 'vitest';
import { applyDemoChanges, generateAssociation, type ChangeSummary } from '../../../src/demo/index.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { diffSnapshots, primaryKeys, rowSnapshot, tableFingerprints } from './snapshot.js';

const snapshot = (url: string) => withClient(url, rowSnapshot);

function countsFromDiff(diff: ReturnType<typeof diffSnapshots>): ChangeSummary['tables'] {
  return Object.fromEntries(
    Object.entries(diff)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([table, d]) => [table, { inserted: d.inserted.length, updated: d.updated.length, deleted: d.deleted.length }]),
  );
}

describe('applyDemoChanges', () => {
  it('changes exactly the rows it reports, stamping them with shared, later updated_at values', async () => {
    const url = await freshDatabase('demo_changes');
    await generateAssociation(url, { people: 1000 });
    const before = await snapshot(url);

    const summary = await applyDemoChanges(url, { updates: 60, inserts: 12, deletes: 6 });
    const diff = diffSnapshots(before, await snapshot(url));

    expect(countsFromDiff(diff)).toEqual(summary.tables);
    expect(summary.tables.people).toEqual({ inserted: 12, updated: 60, deleted: 6 });
    expect(summary.tables.cities).toEqual({ inserted: 1, updated: 1, deleted: 0 });
    expect(summary.tables.chapters).toEqual({ inserted: 0, updated: 1, deleted: 0 });
    expect(summary.tables.member_source_options).toEqual({ inserted: 0, updated: 0, deleted: 1 });
    expect(summary.at).toBe('2025-06-30T01:00:00.000Z'); // the hour after the newest generated updated_at
    expect(summary.total.updated).toBe(Object.values(summary.tables).reduce((n, t) => n + t.updated, 0));

    await withClient(url, async (client) => {
      const keys = await primaryKeys(client);
      for (const [table, d] of Object.entries(diff)) {
        const changed = [...d.inserted, ...d.updated];
        if (changed.length === 0) continue;
        const key = keys.get(table)!.map((k) => `${k}::text`).join(` || '|' || `);
        const { rows } = await client.query(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE updated_at BETWEEN $2 AND $3)::int AS stamped
           FROM ${table} WHERE ${key} = ANY($1)`,
          [changed, summary.at, summary.until],
        );
        expect(rows[0], table).toEqual({ n: changed.length, stamped: changed.length });
      }
      // Untouched rows keep their generated timestamps; changed people come in groups sharing one.
      const { rows: late } = await client.query(`SELECT count(*)::int AS n FROM people WHERE updated_at >= $1`, [summary.at]);
      expect(late[0].n).toBe(72);
      const { rows: ties } = await client.query(
        `SELECT min(n)::int AS smallest, max(n)::int AS largest, count(*)::int AS stamps
         FROM (SELECT count(*) AS n FROM people WHERE updated_at >= $1 AND created_at < $1 GROUP BY updated_at) g`,
        [summary.at],
      );
      expect(ties[0]).toEqual({ smallest: 4, largest: 4, stamps: 15 });
    });
  });

  it('is deterministic and moves forward on every call', async () => {
    const [a, b] = await Promise.all([freshDatabase('demo_changes_a'), freshDatabase('demo_changes_b')]);
    await Promise.all([generateAssociation(a, { people: 800, seed: 3 }), generateAssociation(b, { people: 800, seed: 3 })]);

    const first = await applyDemoChanges(a, { updates: 30, inserts: 5, deletes: 3, seed: 3 });
    expect(await applyDemoChanges(b, { updates: 30, inserts: 5, deletes: 3, seed: 3 })).toEqual(first);
    expect(await withClient(b, tableFingerprints)).toEqual(await withClient(a, tableFingerprints));

    const second = await applyDemoChanges(a, { updates: 30 });
    expect(Date.parse(second.at)).toBeGreaterThan(Date.parse(first.until));
    expect(second.tables.people.updated).toBe(30);
  });

  it('uses the given timestamp and leaves the source consistent', async () => {
    const url = await freshDatabase('demo_changes_at');
    await generateAssociation(url, { people: 500 });
    const at = new Date('2026-01-15T09:30:00Z');
    const summary = await applyDemoChanges(url, { updates: 10, deletes: 20, at });
    expect(summary.at).toBe(at.toISOString());
    await withClient(url, async (client) => {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM people WHERE updated_at = $1`, [at]);
      expect(rows[0].n).toBe(4);
      const orphans = await client.query(
        `SELECT count(*)::int AS n FROM registrations r WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id)`,
      );
      expect(orphans.rows[0].n).toBe(0);
    });
  });
});
