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
/** Tables a namespace may read but not change (a pair scope is created by ferry.pair_scope(), migration 0018). */
const READ_ONLY_TABLES = ['tenant_roles', '__drizzle_migrations', 'pair_scopes'];

/** Grants on every current `ferry.*` table; run again after migrations so new tables are reachable. */
export async function grantNamespaceRole(db: StateDb, role: string): Promise<void> {
  const quoted = pg.escapeIdentifier(role);
  await db.query(`GRANT USAGE ON SCHEMA ferry TO ${quoted}`);
  await db.query(`GRANT ${TENANT_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ferry TO ${quoted}`);
  await db.query(`REVOKE INSERT, UPDATE, DELETE ON ${READ_ONLY_TABLES.map((t) => `ferry.${pg.escapeIdentifier(t)}`).join(', ')} FROM ${quoted}`);
  await db.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ferry TO ${quoted}`);
  await grantScopeToOwner(db, role);
}

/**
 * Lets the owner switch to the namespace's role (SET ROLE) without inheriting it, so the data API reads a
 * namespace's rows under that namespace's policies (store/namespace-scope.ts). Superusers need no grant.
 * Before PostgreSQL 16 a membership cannot be SET-only; the plain one gives the owner nothing it lacks.
 */
async function grantScopeToOwner(db: StateDb, role: string): Promise<void> {
  const { rows } = await db.query<{ superuser: boolean; version: number }>(
    `SELECT rolsuper AS superuser, current_setting('server_version_num')::int AS version FROM pg_roles WHERE rolname = current_user`,
  );
  if (rows[0]?.superuser) return;
  const option = rows[0] && rows[0].version >= 160000 ? ' WITH INHERIT FALSE, SET TRUE' : '';
  await db.query(`GRANT ${pg.escapeIdentifier(role)} TO CURRENT_USER${option}`);
}

const ROLE_ATTRIBUTES = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS';

/** Creates the namespace's role, or sets a new password on it: the old password stops working for new connections. */
async function upsertRole(db: StateDb, role: string, password: string): Promise<void> {
  const quoted = pg.escapeIdentifier(role);
  const verifier = pg.escapeLiteral(scramVerifier(password));
  const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount === 0) {
    await db.query(`CREATE ROLE ${quoted} LOGIN ${ROLE_ATTRIBUTES} PASSWORD ${verifier}`);
  } else {
    await db.query(`ALTER ROLE ${quoted} LOGIN PASSWORD ${verifier}`);
  }
}

/**
 * Serialises the owner's changes to namespace roles (issue, ensure, retire) in one transaction. A namespace's
 * role has only SELECT on ferry.tenant_roles, so it can take no lock that conflicts with this one.
 */
async function lockTenantRoles(client: pg.ClientBase): Promise<void> {
  await client.query('LOCK TABLE ferry.tenant_roles IN SHARE ROW EXCLUSIVE MODE');
}

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Gives the namespace a role with a fresh password (creating it the first time) and returns the
 * credential, which the caller writes into the namespace's Secret. One transaction: a failure leaves
 * the previous password in force. `endSessions` also ends the sessions open with the old password
 * (an explicit rotation: a leaked password's open session must not outlive it).
 */
export async function issueNamespaceCredential(client: pg.ClientBase, namespace: string, options: { endSessions?: boolean } = {}): Promise<NamespaceCredential> {
  const password = randomBytes(32).toString('base64url');
  return inTransaction(client, async () => {
    await lockTenantRoles(client);
    const role = (await namespaceRole(client, namespace)) ?? (await roleNameFor(client, namespace));
    await upsertRole(client, role, password);
    await grantNamespaceRole(client, role);
    await recordRole(client, namespace, role);
    return role;
  }).then(async (role) => {
    // After the commit: a session that reconnects in between must already need the new password.
    if (options.endSessions) await inTransaction(client, () => terminateSessionsOf(client, role));
    return { namespace, role, password };
  });
}

async function roleNameFor(db: StateDb, namespace: string): Promise<string> {
  return namespaceRoleName(namespace, (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db);
}

async function recordRole(db: StateDb, namespace: string, role: string): Promise<void> {
  await db.query(
    `INSERT INTO ferry.tenant_roles (namespace, role_name, lock_salt) VALUES ($1, $2, $3)
     ON CONFLICT (namespace) DO UPDATE SET rotated_at = now()`,
    [namespace, role, randomBytes(16).toString('hex')],
  );
}

/** The role of a namespace, if it has one. */
export async function namespaceRole(db: StateDb, namespace: string): Promise<string | undefined> {
  const { rows } = await db.query<{ role_name: string }>('SELECT role_name FROM ferry.tenant_roles WHERE namespace = $1', [namespace]);
  return rows[0]?.role_name;
}

/**
 * The namespace's role, created without LOGIN when it has none (its rows were written with the owner
 * credential, by `ferry run` or before roles existed): the data API reads under it. Issuing a credential
 * later gives the same role a password.
 */
export async function ensureNamespaceRole(client: pg.ClientBase, namespace: string): Promise<string> {
  const known = await namespaceRole(client, namespace);
  if (known) return known;
  return inTransaction(client, async () => {
    await lockTenantRoles(client);
    const existing = await namespaceRole(client, namespace);
    if (existing) return existing;
    const role = await roleNameFor(client, namespace);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (exists.rowCount === 0) await client.query(`CREATE ROLE ${pg.escapeIdentifier(role)} NOLOGIN ${ROLE_ATTRIBUTES}`);
    await grantNamespaceRole(client, role);
    await recordRole(client, namespace, role);
    return role;
  });
}

/**
 * Ends a namespace's role when it has no flows left (or is gone): its sessions are terminated and the role
 * dropped with its grants and its ferry.tenant_roles row, so no credential of it works any more. Its rows stay
 * (history; the data API creates a role without LOGIN to read them). Returns the dropped role, if any.
 */
export async function retireNamespaceRole(client: pg.ClientBase, namespace: string): Promise<string | undefined> {
  const roleExists = async (role: string) => (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount !== 0;
  // First no new logins (committed), then end the open sessions: none can come back in between.
  const role = await inTransaction(client, async () => {
    await lockTenantRoles(client);
    const found = await namespaceRole(client, namespace);
    if (found && (await roleExists(found))) await client.query(`ALTER ROLE ${pg.escapeIdentifier(found)} NOLOGIN PASSWORD NULL`);
    return found;
  });
  if (!role) return undefined;
  return inTransaction(client, async () => {
    await lockTenantRoles(client);
    if ((await namespaceRole(client, namespace)) !== role) return undefined; // retired meanwhile
    const quoted = pg.escapeIdentifier(role);
    if (await roleExists(role)) {
      await terminateSessionsOf(client, role);
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ferry FROM ${quoted}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ferry FROM ${quoted}`);
      await client.query(`REVOKE ALL ON SCHEMA ferry FROM ${quoted}`);
      await client.query(`DROP ROLE ${quoted}`);
    }
    await client.query('DELETE FROM ferry.tenant_roles WHERE namespace = $1', [namespace]);
    return role;
  });
}

/**
 * Terminates the open sessions of a namespace's role (after a new password, or before dropping it): a
 * changed password only refuses new connections. Run in the caller's transaction; the owner acts as the
 * role for the moment (terminating another role's backend needs that role's privileges).
 */
export async function terminateSessionsOf(client: pg.ClientBase, role: string): Promise<number> {
  await client.query(`SELECT set_config('role', $1, true)`, [role]);
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`,
    [role],
  );
  await client.query('RESET ROLE');
  return Number(rows[0].n);
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
