import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { readMigrationFiles } from 'drizzle-orm/migrator';
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

// Guards only the creation of the schema and its migration journal on a fresh database; any constant works.
const MIGRATION_LOCK_ID = 0x66657272; // "ferr"
const JOURNAL = 'ferry.__drizzle_migrations';

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
    if (await isStateOwner(client)) await migrateAsOwner(client, url);
    else await requireCurrentSchema(client, url);
  } catch (error) {
    client.release();
    await pool.end().catch(() => {});
    throw error;
  }
  client.release();
  return { pool, db: drizzle(pool, { schema }), close: () => pool.end() };
}

/**
 * Pending migrations, then the row-level security and namespace grants of every table (new ones
 * included), under one lock: SHARE UPDATE EXCLUSIVE on the migration journal, held by a session of its
 * own (the migrations commit their own transaction). Namespace roles may only SELECT the journal, so they can
 * neither take nor block that lock, as they could an advisory lock (any role may take any advisory
 * key). The journal's inserts (ROW EXCLUSIVE) do not conflict with it. Only a fresh database, before
 * the journal exists, is guarded by an advisory lock, while the journal is created.
 */
async function migrateAsOwner(client: pg.PoolClient, url: string): Promise<void> {
  await createJournal(client);
  const lock = new pg.Client({ connectionString: url });
  lock.on('error', () => {});
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query(`LOCK TABLE ${JOURNAL} IN SHARE UPDATE EXCLUSIVE MODE`);
    await applyPendingMigrations(client);
    await applyTenantIsolation(client);
    await regrantNamespaceRoles(client); // tables a migration added
    await lock.query('COMMIT');
  } finally {
    await lock.end().catch(() => {});
  }
}

/**
 * drizzle's migrate() for PostgreSQL (the same files, journal rows, hashes and rule: every migration
 * newer than the journal's newest row, all in one transaction), with each migration's statements and
 * journal rows sent as one query instead of one round trip each: a fresh state database takes ~110
 * statements, 0.3-1.5 s of a first `ferry run`'s start-up on a loaded machine when sent one by one.
 * The statements are joined by a line break and a semicolon, so one that ends in a comment still ends.
 */
async function applyPendingMigrations(client: pg.PoolClient): Promise<void> {
  const newest = await client.query<{ created_at: string | null }>(`SELECT created_at FROM ${JOURNAL} ORDER BY created_at DESC LIMIT 1`);
  const appliedUpTo = newest.rows.length > 0 ? Number(newest.rows[0].created_at) : undefined;
  const pending = readMigrationFiles({ migrationsFolder: migrationsFolder() }).filter((m) => appliedUpTo === undefined || appliedUpTo < m.folderMillis);
  if (pending.length === 0) return;
  await client.query('BEGIN');
  try {
    const record = (m: (typeof pending)[number]) => `INSERT INTO ${JOURNAL} (hash, created_at) VALUES ('${m.hash}', ${Number(m.folderMillis)})`;
    await client.query(pending.flatMap((m) => [...m.sql, record(m)]).join('\n;\n'));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The schema and drizzle's journal (its own definition), made once under an advisory lock so two first starts do not collide. */
async function createJournal(client: pg.PoolClient): Promise<void> {
  const exists = await client.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [JOURNAL]);
  if (exists.rows[0].found) return;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
  try {
    await client.query('CREATE SCHEMA IF NOT EXISTS ferry');
    await client.query(`CREATE TABLE IF NOT EXISTS ${JOURNAL} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
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
 *
 * A statement running when the server ends the session gets that answer before the client's 'error'
 * event, which waits for the socket to close. Until then node-pg would queue every later statement
 * on a connection that never answers again (and warn once two wait): they fail at once instead.
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
    if (lost && args.every((arg) => typeof arg !== 'function') && typeof (args[0] as { submit?: unknown } | undefined)?.submit !== 'function') {
      return Promise.reject(named(new Error('the server ended the session')));
    }
    const result = query(...args);
    return result instanceof Promise
      ? result.catch((error: unknown) => {
          if (endsTheSession(error)) lost = true;
          return Promise.reject(named(error));
        })
      : result;
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}

/** The server's answers that end the session: administrator or crash shutdown, server not accepting connections. */
const SESSION_ENDING_CODES = new Set(['57P01', '57P02', '57P03']);

function endsTheSession(error: unknown): boolean {
  return error instanceof Error && SESSION_ENDING_CODES.has((error as { code?: string }).code ?? '');
}
