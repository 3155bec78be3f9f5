import type { Entity } from '../../api/entity.js';
import { conditionSql } from './sql.js';
import { conditionTree } from '../../engine/plan.js';
import type { Watermark } from '../../engine/connector.js';
import { ConfigError } from '../../util/errors.js';
import { ident, literal } from '../../util/sql.js';
import { splitTable, type QueryChanges } from '../../export/source.js';
import { CHANGE_LOG_TABLE, tableName } from './change-log.js';

/**
 * The SQL one export streams with COPY: the file's columns only (Postgres writes the CSV itself).
 * For JSON Lines it is one JSON object text per row built by Postgres, so numbers, booleans and
 * nulls keep their JSON types. `lastSql` (Changes) reads the cursor and key of the last exported
 * row in the same snapshot, for the next watermark.
 */
export interface ExportQuery {
  entity: string;
  columns: string[];
  sql: string;
  lastSql?: string;
  /** Changes of a free query: a key that more than one of the rows to export share (they must be once per run). */
  repeatedSql?: string;
}

export type OutputFormat = 'Csv' | 'JsonLines';

const ALIAS = 'src';


function transformed(expr: string, transform: string | undefined): string {
  switch (transform ?? 'None') {
    case 'Trim':
      return `btrim((${expr})::text)`;
    case 'Lower':
      return `lower((${expr})::text)`;
    case 'Upper':
      return `upper((${expr})::text)`;
    default:
      return expr;
  }
}

function payload(format: OutputFormat, columns: string[], exprs: string[]): string[] {
  if (format === 'Csv') return exprs;
  const pairs = columns.map((c, i) => `${literal(c)}, ${exprs[i]}`);
  // json_build_object takes at most 100 arguments; merge 50-column objects for wide rows.
  const objects: string[] = [];
  for (let i = 0; i < pairs.length; i += 50) objects.push(`jsonb_build_object(${pairs.slice(i, i + 50).join(', ')})`);
  return [`(${objects.join(' || ')})::text`];
}

function typedLiteral(value: string, sqlType: string): string {
  return `${literal(value)}::${sqlType}`;
}

/** Changes and Snapshot read the entity's source table directly. */
export function entityQuery(
  entity: Entity,
  schema: string,
  mode: 'Changes' | 'Snapshot',
  format: OutputFormat,
  keyTypes: string[],
  watermark: Watermark | undefined,
): ExportQuery {
  const { table } = entity.source;
  const columns = entity.fields.map((f) => f.target);
  const exprs = entity.fields.map((f) => transformed(`${ALIAS}.${ident(f.source)}`, f.transform));
  const keys = entity.source.keys.map((k) => `${ALIAS}.${ident(k)}`);
  const where = [conditionSql(conditionTree(entity.source.conditions ?? []))];
  let order: string[];
  let lastSql: string | undefined;
  const t = splitTable(table, schema);
  const from = `${ident(t.schema)}.${ident(t.table)} AS ${ALIAS}`;
  if (mode === 'Changes') {
    if (!entity.source.updatedAt) throw new ConfigError(`entity ${entity.name}: Changes mode needs source.updatedAt`);
    const cursor = `${ALIAS}.${ident(entity.source.updatedAt)}`;
    order = [cursor, ...keys];
    if (watermark) {
      const bound = [typedLiteral(watermark.cursor, 'timestamptz'), ...watermark.key.map((k, i) => typedLiteral(k, keyTypes[i]))];
      where.push(`(${order.join(', ')}) > (${bound.join(', ')})`);
    }
  } else {
    order = keys;
  }
  const filter = ` WHERE ${where.map((w) => `(${w})`).join(' AND ')}`;
  if (mode === 'Changes') {
    lastSql = `SELECT ${order.map((o) => `${o}::text`).join(', ')} FROM ${from}${filter} ORDER BY ${order.map((o) => `${o} DESC`).join(', ')} LIMIT 1`;
  }
  const sql = `SELECT ${payload(format, columns, exprs).join(', ')} FROM ${from}${filter} ORDER BY ${order.join(', ')}`;
  return { entity: entity.name, columns, sql, ...(lastSql ? { lastSql } : {}) };
}

export const EVENT_COLUMNS = ['event_id', 'event_time', 'operation'];

/**
 * The snapshot a previous Events run ended at. A bare transaction id (the cursor of older runs) means
 * every transaction below it had finished; none means nothing was read before.
 */
export function previousSnapshot(cursor: string | undefined): string | undefined {
  if (!cursor || cursor === '0') return undefined;
  return cursor.includes(':') ? cursor : `${cursor}:${cursor}:`;
}

/**
 * Events read the change log of the transactions that became visible between two snapshots, in
 * commit-safe (xid, id) order. Each logged row is turned back into the table's row type, so fields,
 * transforms and source conditions work exactly as for Changes and Snapshot.
 */
export function eventsQuery(entity: Entity, schema: string, format: OutputFormat, from: string | undefined, to: string): ExportQuery {
  const t = splitTable(entity.source.table, schema);
  const visibleNow = `pg_visible_in_snapshot(xid, ${literal(to)}::pg_snapshot)`;
  const window = from
    ? `xid >= pg_snapshot_xmin(${literal(from)}::pg_snapshot) AND ${visibleNow} AND NOT pg_visible_in_snapshot(xid, ${literal(from)}::pg_snapshot)`
    : visibleNow;
  const columns = [...EVENT_COLUMNS, ...entity.fields.map((f) => f.target)];
  const events =
    `(SELECT id AS ferry_event_id, xid AS ferry_xid, at AS ferry_event_time, op AS ferry_operation, row_data AS ferry_row FROM ${CHANGE_LOG_TABLE}` +
    ` WHERE table_name = ${literal(tableName(t.schema, t.table))} AND xid < pg_snapshot_xmax(${literal(to)}::pg_snapshot) AND ${window}) AS ev`;
  const rows = `jsonb_populate_record(NULL::${ident(t.schema)}.${ident(t.table)}, ev.ferry_row) AS ${ALIAS}`;
  const exprs = [
    'ev.ferry_event_id',
    'ev.ferry_event_time',
    'ev.ferry_operation',
    ...entity.fields.map((f) => transformed(`${ALIAS}.${ident(f.source)}`, f.transform)),
  ];
  const sql =
    `SELECT ${payload(format, columns, exprs).join(', ')} FROM ${events} CROSS JOIN LATERAL ${rows}` +
    ` WHERE (${conditionSql(conditionTree(entity.source.conditions ?? []))}) ORDER BY ev.ferry_xid, ev.ferry_event_id`;
  return { entity: entity.name, columns, sql };
}

/**
 * A free query as the derived table `q`. The line breaks end a trailing `--` comment inside it, and
 * the probe (which the server parses as exactly one statement) and the COPY wrap it the same way.
 */
export function freeQueryTable(query: string): string {
  return `(\n${query}\n) AS q`;
}

/**
 * A free SQL query; its columns come from the query itself. In Changes mode its rows after the
 * watermark are read in (cursor, keys) order, like an entity's, and `lastSql` reads the new watermark.
 * The watermark's texts are compared as untyped literals, so they take the query columns' types.
 */
export function freeQuery(query: string, format: OutputFormat, columns: string[], changes?: QueryChanges, after?: Watermark): ExportQuery {
  const select = format === 'Csv' ? 'SELECT *' : 'SELECT row_to_json(q)::text';
  if (!changes) return { entity: 'query', columns, sql: `${select} FROM ${freeQueryTable(query)}` };
  const order = [changes.cursor, ...changes.keys].map((c) => `q.${ident(c)}`);
  const where = [`q.${ident(changes.cursor)} IS NOT NULL`];
  if (after) where.push(`(${order.join(', ')}) > (${[after.cursor, ...after.key].map(literal).join(', ')})`);
  const from = `${freeQueryTable(query)} WHERE ${where.join(' AND ')}`;
  const sql = `${select} FROM ${from} ORDER BY ${order.join(', ')}`;
  const lastSql = `SELECT ${order.map((o) => `${o}::text`).join(', ')} FROM ${from} ORDER BY ${order.map((o) => `${o} DESC`).join(', ')} LIMIT 1`;
  const repeatedSql = `SELECT ${changes.keys.map((k) => `q.${ident(k)}::text`).join(', ')} FROM ${from} GROUP BY ${changes.keys.map((k) => `q.${ident(k)}`).join(', ')} HAVING count(*) > 1 LIMIT 1`;
  return { entity: 'query', columns, sql, lastSql, repeatedSql };
}
