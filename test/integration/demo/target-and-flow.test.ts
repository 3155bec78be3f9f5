import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseManifests, validateManifests, type TableCatalog } from '../../../src/api/index.js';
import { associationExampleDir, createTargetSchema, generateAssociation } from '../../../src/demo/index.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

async function columnsByTable(client: pg.Client): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table: string; columns: string[] }>(
    `SELECT table_name AS table, array_agg(column_name::text ORDER BY ordinal_position) AS columns
     FROM information_schema.columns WHERE table_schema = current_schema() GROUP BY table_name`,
  );
  return new Map(rows.map((r) => [r.table, r.columns]));
}

function loadExample(name: string) {
  return parseManifests(readFileSync(join(associationExampleDir(), name), 'utf8'), name);
}

describe('the website target schema', () => {
  it('applies, with its own identity ids, foreign keys, archive flags and the narrow e-mail column', async () => {
    const url = await freshDatabase('demo_target');
    await createTargetSchema(url);
    await withClient(url, async (client) => {
      const columns = await columnsByTable(client);
      expect(columns.size).toBe(54);
      for (const table of ['people', 'firms', 'events']) expect(columns.get(table)).toContain('archived');
      expect(columns.get('people')).toEqual(expect.arrayContaining(['given_name', 'family_name', 'membership_status']));

      const { rows: email } = await client.query(`SELECT data_type, character_maximum_length AS max
        FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'email'`);
      expect(email[0]).toEqual({ data_type: 'character varying', max: 120 });

      const { rows: ids } = await client.query(`SELECT count(*)::int AS n, min(seqstart)::bigint AS lowest
        FROM pg_sequence s JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype = 'i'`);
      expect(ids[0].n).toBe(54);
      expect(Number(ids[0].lowest)).toBeGreaterThan(1000); // never equal to a generated association id of a lookup

      const { rows: fks } = await client.query(`SELECT count(*)::int AS n FROM pg_constraint
        WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`);
      expect(fks[0].n).toBeGreaterThan(50);

      await expect(client.query(`INSERT INTO people (given_name, family_name, email, membership_status, gender_id, state_id, city_id,
        person_type_id, billing_class_id, created_at) VALUES ('A', 'B', repeat('x', 121), 'Member', 1, 1, 1, 1, 1, now())`))
        .rejects.toThrow(/too long for type character varying\(120\)/);
    });
    await createTargetSchema(url, { replace: true });
  });
});

describe('examples/association manifests', () => {
  it('validate against the generated association and the website schema', async () => {
    const [source, target] = await Promise.all([freshDatabase('demo_flow_src'), freshDatabase('demo_flow_tgt')]);
    await generateAssociation(source, { people: 50 });
    await createTargetSchema(target);
    const sourceColumns = await withClient(source, columnsByTable);
    const targetColumns = await withClient(target, columnsByTable);
    const catalog: TableCatalog = {
      tableColumns: (side, table) => (side === 'source' ? sourceColumns : targetColumns).get(table),
    };

    const flowFile = loadExample('syncflow.yaml');
    expect(validateManifests(flowFile, { catalog })).toEqual([]);

    const flow = flowFile.flows[0];
    expect(flow.metadata.name).toBe('association');
    const entities = flow.spec.entities;
    expect(entities.map((e) => e.source.table).sort()).toEqual([...sourceColumns.keys()].sort());
    expect(new Set(entities.map((e) => e.target.table)).size).toBe(targetColumns.size);
    for (const entity of entities) {
      const unmapped = sourceColumns.get(entity.source.table)!.filter(
        (c) => c !== 'id' && c !== 'updated_at' && !entity.fields.some((f) => f.source === c),
      );
      expect(unmapped, entity.name).toEqual([]);
      expect(entity.source.updatedAt).toBe('updated_at');
      for (const field of entity.fields) if (field.lookup) expect(entity.requires, entity.name).toContain(field.lookup);
    }
    const archived = entities.filter((e) => e.actions?.includes('archiveInTarget')).map((e) => e.name);
    expect(archived.sort()).toEqual(['events', 'firms', 'people']);

    const secrets = loadExample('secrets.yaml').secrets;
    expect(secrets.map((s) => [s.name, s.stringData.url])).toEqual([
      ['association-db', 'embedded://association'],
      ['website-db', 'embedded://website'],
    ]);
  });
});
