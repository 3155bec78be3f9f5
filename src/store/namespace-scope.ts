import type pg from 'pg';
import type { StateClient } from './state-connection.js';
import { ensureNamespaceRole } from './tenant-roles.js';

/**
 * Reads of one namespace's rows as that namespace's role: the owner's session switches to the role
 * (`SET LOCAL ROLE` in a read-only transaction), so PostgreSQL's row-level security, not the caller's
 * WHERE clause, decides which rows come back. A filter that names another namespace, or none, returns
 * nothing of another namespace. A namespace without a role gets one that cannot log in.
 */
export async function readAsNamespace<T>(pool: pg.Pool, namespace: string, read: (db: StateClient) => Promise<T>): Promise<T> {
  const client = await openNamespaceSession(pool, namespace);
  let failed: Error | undefined;
  try {
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A session that failed is dropped, not pooled: it could still be in the namespace's transaction.
    client.release(failed);
  }
}

/**
 * A pooled session in a read-only transaction as the namespace's role, for a read that outlives one
 * call (a streamed download). The caller ends it with {@link endNamespaceSession}.
 */
export async function openNamespaceSession(pool: pg.Pool, namespace: string): Promise<pg.PoolClient> {
  const client = await pool.connect();
  try {
    const role = await ensureNamespaceRole(client, namespace);
    await client.query('BEGIN READ ONLY');
    await client.query(`SELECT set_config('role', $1, true)`, [role]);
    return client;
  } catch (error) {
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Ends a session of {@link openNamespaceSession}: committed and pooled, or (after an error or an abort) dropped. */
export async function endNamespaceSession(client: pg.PoolClient, error?: Error): Promise<void> {
  if (error) {
    client.release(error);
    return;
  }
  try {
    await client.query('COMMIT');
    client.release();
  } catch (failure) {
    client.release(failure instanceof Error ? failure : new Error(String(failure)));
  }
}
