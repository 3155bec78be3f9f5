import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getTableName, is } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import * as schema from '../../../src/store/schema.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

describe('state store migrations', () => {
  it('are applied once even when several Ferry processes start at the same moment', async () => {
    const url = await freshDatabase('state_race');
    const stores = await Promise.all(Array.from({ length: 6 }, () => openStateStore(url)));
    await Promise.all(stores.map((s) => s.close()));
    const applied = await withClient(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM ferry.__drizzle_migrations')).rows[0].n);
    const tables = await withClient(url, async (c) =>
      (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'ferry' ORDER BY 1`)).rows.map((r) => r.table_name),
    );
    const journal = JSON.parse(readFileSync(new URL('../../../drizzle/meta/_journal.json', import.meta.url), 'utf8'));
    expect(journal.entries.length).toBeGreaterThanOrEqual(2);
    expect(applied).toBe(journal.entries.length);
    // Every table the drizzle schema declares exists, and nothing else does.
    const declared = Object.values(schema).filter((value) => is(value, PgTable)).map((table) => getTableName(table as PgTable));
    expect(declared).toEqual(expect.arrayContaining(['pairs', 'runs', 'watermarks', 'inflight_batches']));
    expect([...tables].sort()).toEqual(['__drizzle_migrations', ...declared].sort());
    const collation = await withClient(url, async (c) =>
      (await c.query(`SELECT collation_name FROM information_schema.columns WHERE table_schema = 'ferry' AND table_name = 'pairs' AND column_name = 'source_key'`)).rows[0].collation_name,
    );
    expect(collation).toBe('C');
  });

  it('write the journal rows and schema that drizzle-orm\'s own migrate() writes (hash, time, every column and index)', async () => {
    const [ours, theirs] = [await freshDatabase('state_ours'), await freshDatabase('state_drizzle')];
    await (await openStateStore(ours)).close();
    await withClient(theirs, (c) => migrate(drizzle(c), { migrationsFolder: fileURLToPath(new URL('../../../drizzle', import.meta.url)), migrationsSchema: 'ferry' }));
    const shape = (url: string) =>
      withClient(url, async (c) => ({
        journal: (await c.query('SELECT hash, created_at FROM ferry.__drizzle_migrations ORDER BY id')).rows,
        columns: (
          await c.query(
            `SELECT table_name, column_name, data_type, collation_name, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'ferry' ORDER BY 1, 2`,
          )
        ).rows,
        indexes: (await c.query(`SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'ferry' ORDER BY 1, 2`)).rows,
      }));
    const [mine, drizzles] = [await shape(ours), await shape(theirs)];
    expect(mine.journal.length).toBeGreaterThanOrEqual(2);
    expect(mine).toEqual(drizzles);
  });

  it('says which database it cannot reach, without the password', async () => {
    const error = await openStateStore('postgres://ferry:topsecret@127.0.0.1:1/state').catch((e) => e);
    expect(error.message).toMatch(/^cannot connect to the state database at postgres:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/state/);
    expect(error.message).not.toContain('topsecret');
  });
});
