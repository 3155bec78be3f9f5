import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema.js';
import { applyTenantIsolation } from './tenant-isolation.js';
import { isStateOwner, regrantNamespaceRoles } from './tenant-roles.js';
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

/**
 * Connects to the state DB. With the owner credential it applies pending migrations under an advisory
 * lock (so concurrent starters are safe); with a namespace's credential it only checks they were applied.
 */
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
    if (await isStateOwner(client)) await migrateAsOwner(client);
    else await requireCurrentSchema(client, url);
  } catch (error) {
    client.release();
    await pool.end().catch(() => {});
    throw error;
  }
  client.release();
  return { pool, db: drizzle(pool, { schema }), close: () => pool.end() };
}

/** Pending migrations, then the row-level security and namespace grants of every table (new ones included), under one lock. */
async function migrateAsOwner(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
  try {
    await migrate(drizzle(client, { schema }), { migrationsFolder: migrationsFolder(), migrationsSchema: 'ferry' });
    await applyTenantIsolation(client);
    await regrantNamespaceRoles(client); // tables a migration added
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
  }
}

/**
 * A namespace's role (a sync Job) never runs DDL: it only checks that the owner (the controller) has
 * applied every migration this version of Ferry knows, and refuses to run on an older schema.
 */
async function requireCurrentSchema(client: pg.PoolClient, url: string): Promise<void> {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
  const newest = journal.entries[journal.entries.length - 1];
  const applied = await client.query<{ when: string | null }>('SELECT max(created_at)::text AS when FROM ferry.__drizzle_migrations');
  if (newest && Number(applied.rows[0]?.when ?? 0) < newest.when) {
    throw new FerryError(
      `the state database at ${redactUrl(url)} lacks migrations up to ${newest.tag}: this credential is a namespace's and may not change the schema; ` +
        'start (or upgrade) the Ferry controller, which applies them with the owner credential',
      EXIT_SYNC_FAILED,
    );
  }
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
