import { describe, expect, it } from 'vitest';
import { BAD_ROWS, generateAssociation, planDataset } from '../../../src/demo/index.js';
import { LOOKUPS } from '../../../src/demo/lookups.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { primaryKeys, tableFingerprints } from './snapshot.js';

const PERSON_CHILDREN = [
  'email_preferences', 'group_memberships', 'person_interests', 'person_languages', 'subscriptions', 'person_member_sources',
  'person_sectors', 'person_skills', 'special_needs', 'volunteer_preferences', 'volunteer_skills', 'volunteer_tags',
  'dues_balances', 'chapter_balances', 'product_balances', 'registrations', 'event_balances',
];

async function rowCounts(url: string): Promise<Record<string, number>> {
  return withClient(url, async (client) => {
    const counts: Record<string, number> = {};
    for (const table of (await primaryKeys(client)).keys()) {
      counts[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    return counts;
  });
}

describe('generateAssociation', () => {
  it('produces identical data for the same people count and seed, and different data for another seed', async () => {
    const [a, b, c] = await Promise.all([freshDatabase('demo_same_a'), freshDatabase('demo_same_b'), freshDatabase('demo_other')]);
    await generateAssociation(a, { people: 1500, seed: 7 });
    await generateAssociation(b, { people: 1500, seed: 7, parallel: 1 });
    await generateAssociation(c, { people: 1500, seed: 8 });

    const [fa, fb, fc] = await Promise.all([a, b, c].map((url) => withClient(url, tableFingerprints)));
    expect(Object.keys(fa)).toHaveLength(54);
    expect(fb).toEqual(fa);
    expect(fc.people).not.toBe(fa.people);
    expect(fc.dues_balances).not.toBe(fa.dues_balances);
    expect(fc.genders).toBe(fa.genders); // lookups are fixed
  });

  it('reports exact row counts that scale with the number of people', async () => {
    const [small, large] = await Promise.all([freshDatabase('demo_small'), freshDatabase('demo_large')]);
    const s = await generateAssociation(small, { people: 1000 });
    const l = await generateAssociation(large, { people: 4000 });

    expect(await rowCounts(small)).toEqual(s.tables);
    expect(await rowCounts(large)).toEqual(l.tables);
    expect(s.totalRows).toBe(Object.values(s.tables).reduce((x, y) => x + y, 0));

    for (const [table, rows] of Object.entries(LOOKUPS)) {
      expect(s.tables[table]).toBe(rows.length);
      expect(l.tables[table]).toBe(rows.length);
    }
    expect(l.tables.people).toBe(4 * s.tables.people);
    expect(l.tables.firms).toBe(4 * s.tables.firms);
    const children = (t: Record<string, number>) => PERSON_CHILDREN.reduce((sum, name) => sum + t[name], 0);
    expect(children(l.tables)).toBeGreaterThanOrEqual(4 * children(s.tables) - PERSON_CHILDREN.length);
    const perPerson = children(l.tables) / l.tables.people;
    expect(perPerson).toBeGreaterThan(3);
    expect(perPerson).toBeLessThan(5);
    expect(s.tables).toMatchObject({ people: 1000, ...planDataset(1000).children });
  });

  it('leaves a fully indexed and constrained schema: primary keys, (updated_at, key) indexes, valid foreign keys', async () => {
    const url = await freshDatabase('demo_schema');
    await generateAssociation(url, { people: 300 });
    await withClient(url, async (client) => {
      const keys = await primaryKeys(client);
      expect(keys.size).toBe(54);
      const { rows: cursorIndexes } = await client.query<{ table: string; columns: string[] }>(
        `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE c.relnamespace = current_schema()::regnamespace AND NOT i.indisprimary
         GROUP BY i.indexrelid, c.relname`,
      );
      for (const [table, key] of keys) {
        expect(cursorIndexes, table).toContainEqual({ table, columns: ['updated_at', ...key] });
      }
      const { rows: fks } = await client.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT convalidated)::int AS invalid
        FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`);
      expect(fks[0]).toEqual({ n: 61, invalid: 0 });
      const { rows: peopleFirmFk } = await client.query(`SELECT 1 FROM pg_constraint
        WHERE contype = 'f' AND conrelid = 'people'::regclass AND confrelid = 'firms'::regclass`);
      expect(peopleFirmFk).toHaveLength(0);
    });
  });

  it('breaks a few people on purpose only when badRows is set', async () => {
    const [clean, bad] = await Promise.all([freshDatabase('demo_clean'), freshDatabase('demo_bad')]);
    const cleanSummary = await generateAssociation(clean, { people: 2500 });
    const badSummary = await generateAssociation(bad, { people: 2500, badRows: true });
    const problems = (url: string) =>
      withClient(url, async (client) => (await client.query(`SELECT
          (SELECT count(*)::int FROM people WHERE length(email) > 120) AS "longEmail",
          (SELECT count(*)::int FROM people p WHERE firm_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM firms f WHERE f.id = p.firm_id)) AS "missingFirm",
          (SELECT array_agg(id ORDER BY id) FROM people WHERE length(email) > 120) AS "longEmailIds"`)).rows[0]);

    expect(cleanSummary.badRows).toEqual({ longEmail: 0, missingFirm: 0 });
    expect(await problems(clean)).toEqual({ longEmail: 0, missingFirm: 0, longEmailIds: null });
    expect(badSummary.badRows).toEqual({ longEmail: 3, missingFirm: 3 });
    expect(await problems(bad)).toEqual({ longEmail: 3, missingFirm: 3, longEmailIds: ['7', '1007', '2007'].map(String) });
    expect(BAD_ROWS).toEqual({ longEmail: 7, missingFirm: 11 });
  });

  it('creates only the schema with schemaOnly, refuses to overwrite, and recreates with replace', async () => {
    const url = await freshDatabase('demo_replace');
    const empty = await generateAssociation(url, { people: 100, schemaOnly: true });
    expect(empty.totalRows).toBe(0);
    expect(Object.values(await rowCounts(url)).every((n) => n === 0)).toBe(true);

    await expect(generateAssociation(url, { people: 100 })).rejects.toThrow(/already has association tables/);
    const filled = await generateAssociation(url, { people: 100, replace: true });
    expect((await rowCounts(url)).people).toBe(100);
    expect(filled.tables.people).toBe(100);
  });

  it('prints how long 20,000 people take (sanity, not a limit)', async () => {
    const url = await freshDatabase('demo_timing');
    const steps: string[] = [];
    const summary = await generateAssociation(url, { people: 20_000, progress: (m) => steps.push(m) });
    console.log(`generated ${summary.totalRows.toLocaleString('en-US')} rows for 20,000 people in ${summary.elapsedMs} ms (${steps.join('; ')})`);
    expect(summary.tables.people).toBe(20_000);
  });
});
