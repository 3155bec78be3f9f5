import type pg from 'pg';
import { ident, qualified } from '../../util/sql.js';

/** The channel Ferry's change triggers notify; the payload is `schema.table`. */
export const CHANGE_CHANNEL = 'ferry_changes';
const FUNCTION = 'ferry_notify_change';
const TRIGGER = 'ferry_notify_change';

/**
 * Installs a statement-level trigger per table that NOTIFYs `ferry_changes` on every insert,
 * update, delete or truncate. Statement-level: one notification per statement, whatever its size,
 * and PostgreSQL folds identical notifications within a transaction.
 */
export async function installChangeTriggers(client: pg.ClientBase, schema: string, tables: string[]): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE OR REPLACE FUNCTION ${qualified(schema, FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('${CHANGE_CHANNEL}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
         RETURN NULL;
       END $$`,
    );
    for (const table of new Set(tables)) {
      await client.query(
        `CREATE OR REPLACE TRIGGER ${ident(TRIGGER)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${qualified(schema, table)}
         FOR EACH STATEMENT EXECUTE FUNCTION ${qualified(schema, FUNCTION)}()`,
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

export async function uninstallChangeTriggers(client: pg.ClientBase, schema: string, tables: string[]): Promise<void> {
  for (const table of new Set(tables)) await client.query(`DROP TRIGGER IF EXISTS ${ident(TRIGGER)} ON ${qualified(schema, table)}`);
  await client.query(`DROP FUNCTION IF EXISTS ${qualified(schema, FUNCTION)}()`);
}

/** Tables of a flow that carry Ferry's change trigger. */
export async function tablesWithTrigger(client: pg.ClientBase, schema: string): Promise<string[]> {
  const result = await client.query(
    `SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = $1 AND n.nspname = $2 ORDER BY 1`,
    [TRIGGER, schema],
  );
  return result.rows.map((r) => r.relname);
}
