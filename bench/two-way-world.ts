import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Entity } from '../src/api/entity.js';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import { packageRoot } from '../src/util/package-root.js';

/** The two-way example's schema (examples/two-way-people) without its sample rows. */
export function exampleSchema(file: 'church.sql' | 'accounts.sql'): string {
  const sql = readFileSync(join(packageRoot(), 'examples', 'two-way-people', file), 'utf8');
  return sql.slice(0, sql.indexOf('\nINSERT INTO'));
}

export function peopleFlow(direction: 'OneWay' | 'TwoWay', batchSize = 5000): SyncFlowSpec {
  const people: Entity = {
    name: 'people',
    source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
    target: { table: 'persons', keys: ['nr'], updatedAt: 'changed_at' },
    match: [{ source: 'email', target: 'mail', normalize: 'Lower' }],
    fields: [
      { source: 'first_name', target: 'name_first' },
      { source: 'last_name', target: 'name_last' },
      { source: 'email', target: 'mail' },
      { source: 'status', target: 'category' },
      { source: 'family_status', target: 'marital' },
    ],
    actions: direction === 'TwoWay' ? ['link', 'createInTarget', 'createInSource', 'updateNewerWins'] : ['link', 'createInTarget', 'updateTarget'],
  };
  return {
    direction,
    source: { postgres: { secretRef: { name: 'church' } } },
    target: { postgres: { secretRef: { name: 'accounts' } } },
    batchSize,
    entities: [people],
  } as SyncFlowSpec;
}

export async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function fillChurch(url: string, people: number): Promise<void> {
  await sql(url, exampleSchema('church.sql'));
  await sql(
    url,
    `INSERT INTO people (first_name, last_name, email, status, family_status, updated_at)
     SELECT 'First' || i, 'Last' || (i % 997), 'p' || i || '@example.org', (ARRAY['Member','Friend','Guest'])[1 + i % 3],
            (ARRAY['Married','Single'])[1 + i % 2], timestamptz '2026-01-01' + i * interval '1 second'
       FROM generate_series(1, ${people}) i;
     ANALYZE people;`,
  );
}
