import type pg from 'pg';
import type { ColumnInfo, TableInfo } from '../../engine/connector.js';

export type { ColumnInfo, TableInfo };

const COLUMNS_SQL = `
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS sql_type,
       t.typname AS type_name,
       a.attnotnull AS not_null,
       CASE WHEN a.attidentity <> '' THEN format('nextval(%L::regclass)', pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname))
            ELSE pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
       a.attidentity::text AS identity
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

/**
 * Reads the columns of several tables in one query (a flow has dozens of tables, and one round
 * trip per table dominated short runs); tables that do not exist are absent from the map.
 */
export async function readTables(client: pg.ClientBase, schema: string, tables: string[]): Promise<Map<string, TableInfo>> {
  const text = COLUMNS_SQL.replace('a.attname AS name,', 'c.relname AS table_name, a.attname AS name,')
    .replace('c.relname = $2', 'c.relname = ANY($2::text[])')
    .replace('ORDER BY a.attnum', 'ORDER BY c.relname, a.attnum');
  const result = await client.query(text, [schema, [...new Set(tables)]]);
  const out = new Map<string, TableInfo>();
  for (const row of result.rows) {
    let info = out.get(row.table_name);
    if (!info) out.set(row.table_name, (info = { schema, table: row.table_name, columns: new Map() }));
    info.columns.set(row.name, {
      name: row.name,
      sqlType: row.sql_type,
      typeName: row.type_name,
      notNull: row.not_null,
      defaultExpr: row.default_expr,
      generated: row.default_expr !== null,
      identity: row.identity,
    });
  }
  return out;
}

/** Reads a table's columns; undefined when the table does not exist. */
export async function readTable(client: pg.ClientBase, schema: string, table: string): Promise<TableInfo | undefined> {
  const result = await client.query(COLUMNS_SQL, [schema, table]);
  if (result.rowCount === 0) return undefined;
  const columns = new Map<string, ColumnInfo>();
  for (const row of result.rows) {
    columns.set(row.name, {
      name: row.name,
      sqlType: row.sql_type,
      typeName: row.type_name,
      notNull: row.not_null,
      defaultExpr: row.default_expr,
      generated: row.default_expr !== null,
      identity: row.identity,
    });
  }
  return { schema, table, columns };
}
