import type pg from 'pg';
import { ident } from '../../util/sql.js';

/**
 * Events mode reads a change log in the source database, filled by row triggers Ferry installs.
 * Each event remembers the id of the transaction that wrote it (xid8), so a reader can take exactly
 * the events of transactions that have finished: those below the xmin of a fresh snapshot.
 */
export const CHANGE_LOG_SCHEMA = 'ferry_changes';
export const CHANGE_LOG_TABLE = `${CHANGE_LOG_SCHEMA}.change_log`;

const INSTALL_SQL = `
CREATE SCHEMA IF NOT EXISTS ${CHANGE_LOG_SCHEMA};
CREATE TABLE IF NOT EXISTS ${CHANGE_LOG_TABLE} (
  id bigserial PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  table_name text NOT NULL,
  op text NOT NULL,
  row_data jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS change_log_table_xid_idx ON ${CHANGE_LOG_TABLE} (table_name, xid, id);
CREATE OR REPLACE FUNCTION ${CHANGE_LOG_SCHEMA}.record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${CHANGE_LOG_TABLE} (table_name, op, row_data)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
  RETURN NULL;
END $$;
`;

export function tableName(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** Creates the change-log table and a row trigger on each table (idempotent). */
export async function installChangeLog(client: pg.ClientBase, tables: { schema: string; table: string }[]): Promise<void> {
  await client.query(INSTALL_SQL);
  for (const t of tables) {
    await client.query(
      `CREATE OR REPLACE TRIGGER ferry_change_log AFTER INSERT OR UPDATE OR DELETE ON ${ident(t.schema)}.${ident(t.table)}
       FOR EACH ROW EXECUTE FUNCTION ${CHANGE_LOG_SCHEMA}.record_change()`,
    );
  }
}

export async function changeLogInstalled(client: pg.ClientBase, t: { schema: string; table: string }): Promise<boolean> {
  const result = await client.query(
    `SELECT 1 FROM pg_trigger WHERE tgname = 'ferry_change_log' AND tgrelid = to_regclass($1)`,
    [`${ident(t.schema)}.${ident(t.table)}`],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * The current snapshot as text (`xmin:xmax:in-progress xids`). An event is final once its
 * transaction is visible in a snapshot; comparing two snapshots (as PgQ does) takes the events
 * that became visible between them, so a long transaction elsewhere delays only its own events.
 */
export async function currentSnapshot(client: pg.ClientBase): Promise<string> {
  const result = await client.query(`SELECT pg_current_snapshot()::text AS snapshot`);
  return result.rows[0].snapshot as string;
}
