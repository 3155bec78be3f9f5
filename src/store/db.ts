import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema.js';
import { describeConnectionError, EXIT_SYNC_FAILED, FerryError, redactUrl } from '../util/errors.js';

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
  pool.on('connect', (client) => failAsLostStateDb(client, url));
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

/**
 * A pool client whose connection is lost (the server restarted, the database went away) makes its
 * statements fail with one sentence naming the state database, for the user as-is. Without an
 * 'error' listener, node-pg would crash the process on the event of a checked-out client.
 */
function failAsLostStateDb(client: pg.PoolClient, url: string): void {
  let lost = false;
  client.on('error', () => (lost = true));
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = (error: unknown): unknown => {
    if (!lost || error instanceof FerryError) return error;
    const detail = error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : String(error);
    return new FerryError(`lost the connection to the state database at ${redactUrl(url)}: ${detail}`, EXIT_SYNC_FAILED, { cause: error });
  };
  const wrapped = (...args: unknown[]): unknown => {
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(named(error))) : result;
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}
