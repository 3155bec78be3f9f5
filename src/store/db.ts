import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema.js';
import { describeConnectionError } from '../util/errors.js';

export type StateDb = NodePgDatabase<typeof schema>;

export interface StateStore {
  pool: pg.Pool;
  db: StateDb;
  close(): Promise<void>;
}

// Any constant works; it only has to be the same for every Ferry process.
const MIGRATION_LOCK_ID = 0x66657272; // "ferr"

function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('drizzle migrations folder not found next to the package');
}

/** Connects to the state DB and applies pending migrations under an advisory lock, so concurrent starters are safe. */
export async function openStateStore(url: string, options: { max?: number } = {}): Promise<StateStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, options: '-c TimeZone=UTC' });
  pool.on('error', () => {});
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw describeConnectionError('the state database', url, error);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await migrate(drizzle(client, { schema }), { migrationsFolder: migrationsFolder(), migrationsSchema: 'ferry' });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
  return { pool, db: drizzle(pool, { schema }), close: () => pool.end() };
}
