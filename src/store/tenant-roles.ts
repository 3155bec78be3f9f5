import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StateDb } from './state-connection.js';

/**
 * The PostgreSQL role of one Kubernetes namespace, kept by the controller with the owner credential:
 * a login role with no attributes and no memberships (so it cannot SET ROLE to anything), granted only
 * the data statements a sync Job runs on `ferry.*` (never TRUNCATE, which row-level security does not
 * cover, nor any DDL). Which rows it reaches is decided by the policies of store/tenant-isolation.ts.
 */
export interface NamespaceCredential {
  namespace: string;
  role: string;
  password: string;
}

const MAX_ROLE_LENGTH = 63;

/**
 * `ferry.<namespace>.<database>`: roles are global to the server, so two state databases on one server
 * (staging and production) get their own. Too long a name keeps the namespace's start and a hash of both.
 */
export function namespaceRoleName(namespace: string, database: string): string {
  const plain = `ferry.${namespace}.${database}`;
  if (Buffer.byteLength(plain) <= MAX_ROLE_LENGTH) return plain;
  const hash = createHash('sha256').update(`${namespace}\0${database}`).digest('hex').slice(0, 12);
  return `ferry.${namespace.slice(0, MAX_ROLE_LENGTH - hash.length - 7)}.${hash}`;
}

/**
 * A SCRAM-SHA-256 verifier of the password, as PostgreSQL stores it: the server (and its statement
 * log) never sees the password itself.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const TENANT_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
/** Tables a namespace may read but not change. */
const READ_ONLY_TABLES = ['tenant_roles', '__drizzle_migrations'];

/** Grants on every current `ferry.*` table; run again after migrations so new tables are reachable. */
export async function grantNamespaceRole(db: StateDb, role: string): Promise<void> {
  const quoted = pg.escapeIdentifier(role);
  await db.query(`GRANT USAGE ON SCHEMA ferry TO ${quoted}`);
  await db.query(`GRANT ${TENANT_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ferry TO ${quoted}`);
  await db.query(`REVOKE INSERT, UPDATE, DELETE ON ${READ_ONLY_TABLES.map((t) => `ferry.${pg.escapeIdentifier(t)}`).join(', ')} FROM ${quoted}`);
  await db.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ferry TO ${quoted}`);
}

/** Creates the namespace's role, or sets a new password on it: the old password stops working for new connections. */
async function upsertRole(db: StateDb, role: string, password: string): Promise<void> {
  const quoted = pg.escapeIdentifier(role);
  const verifier = pg.escapeLiteral(scramVerifier(password));
  const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount === 0) {
    await db.query(`CREATE ROLE ${quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD ${verifier}`);
  } else {
    await db.query(`ALTER ROLE ${quoted} LOGIN PASSWORD ${verifier}`);
  }
}

/**
 * Gives the namespace a role with a fresh password (creating it the first time) and returns the
 * credential, which the caller writes into the namespace's Secret. One transaction: a failure leaves
 * the previous password in force.
 */
export async function issueNamespaceCredential(client: pg.ClientBase, namespace: string): Promise<NamespaceCredential> {
  const password = randomBytes(32).toString('base64url');
  await client.query('BEGIN');
  try {
    const known = await client.query<{ role_name: string }>('SELECT role_name FROM ferry.tenant_roles WHERE namespace = $1 FOR UPDATE', [namespace]);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const role = known.rows[0]?.role_name ?? namespaceRoleName(namespace, database);
    await upsertRole(client, role, password);
    await grantNamespaceRole(client, role);
    await client.query(
      `INSERT INTO ferry.tenant_roles (namespace, role_name, lock_salt) VALUES ($1, $2, $3)
       ON CONFLICT (namespace) DO UPDATE SET rotated_at = now()`,
      [namespace, role, randomBytes(16).toString('hex')],
    );
    await client.query('COMMIT');
    return { namespace, role, password };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The namespaces that have a role, with it. */
export async function namespaceRoles(db: StateDb): Promise<{ namespace: string; role: string; rotatedAt: Date }[]> {
  const { rows } = await db.query<{ namespace: string; role: string; rotatedAt: Date }>(
    'SELECT namespace, role_name AS role, rotated_at AS "rotatedAt" FROM ferry.tenant_roles ORDER BY namespace',
  );
  return rows;
}

/** Re-grants every namespace role on the current tables (after migrations added some). */
export async function regrantNamespaceRoles(db: StateDb): Promise<void> {
  for (const { role } of await namespaceRoles(db)) await grantNamespaceRole(db, role);
}

/** Whether the connected role owns Ferry's schema (may migrate and keep roles) or is a namespace's role. */
export async function isStateOwner(db: StateDb): Promise<boolean> {
  const { rows } = await db.query<{ owner: boolean | null }>(
    `SELECT (SELECT pg_has_role(current_user, n.nspowner, 'USAGE') FROM pg_namespace n WHERE n.nspname = 'ferry') AS owner`,
  );
  return rows[0]?.owner !== false;
}

/** The state database URL of a namespace: the owner's, with the namespace's role and password instead. */
export function namespaceStateUrl(ownerUrl: string, credential: Pick<NamespaceCredential, 'role' | 'password'>): string {
  const url = new URL(ownerUrl);
  url.username = encodeURIComponent(credential.role);
  url.password = encodeURIComponent(credential.password);
  return url.toString();
}
