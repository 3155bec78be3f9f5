import type pg from 'pg';
import type { Row, TableReader, Watermark } from '../../engine/connector.js';
import { asHex, decodeUtf8Row, storesUncheckedBytes } from './unchecked-bytes.js';
import type { EntityPlan } from '../../engine/plan.js';
import { copyOutRows } from '../../util/copy-out.js';
import { ident, literal, qualified } from '../../util/sql.js';
import { conditionSql, orderExpression, mappedValueSql } from './sql.js';

// ORDER BY a bare name would pick an output column of that name first; qualified names never do.
const ALIAS = 'src';
const column = (name: string) => `${ALIAS}.${ident(name)}`;

/** The source-side value expressions in stage order: target key fields first, then the rest. */
export function valueExpressions(plan: EntityPlan): string[] {
  return [...plan.keyFields, ...plan.fields].map((f) => mappedValueSql(column(f.source), f));
}

/** md5 over the mapped, transformed values: an unchanged row costs only its key and hash on the wire. */
export function sourceHashExpression(plan: EntityPlan): string {
  return `md5(ROW(${valueExpressions(plan).join(', ')})::text)`;
}

export function inScopeSql(plan: EntityPlan): string {
  return conditionSql(plan.source.conditions);
}

function selectList(plan: EntityPlan, withValues: boolean): string {
  const cursor = plan.source.updatedAt ? column(plan.source.updatedAt) : 'NULL::timestamptz';
  const columns = [...plan.source.keys.map(column), cursor, sourceHashExpression(plan), `(${inScopeSql(plan)})`];
  if (withValues) {
    columns.push(...valueExpressions(plan));
    columns.push(...plan.match.map((m) => `(${column(m.source)})::text`));
  }
  return columns.join(', ');
}

function from(plan: EntityPlan): string {
  return `${qualified(plan.source.schema, plan.source.table)} AS ${ALIAS}`;
}

function keyOrder(plan: EntityPlan): string {
  return plan.source.keys.map((k, i) => orderExpression(column(k), plan.source.keyKinds[i])).join(', ');
}

function typedLiteral(value: string, sqlType: string): string {
  return `${literal(value)}::${sqlType}`;
}

/** `(updatedAt, key) > (watermark)`, the tie-safe Incremental bound; '' without a watermark. */
function afterWatermark(plan: EntityPlan, watermark: Watermark | undefined): string {
  if (!watermark) return '';
  const order = [column(plan.source.updatedAt!), ...plan.source.keys.map(column)].join(', ');
  const bound = [typedLiteral(watermark.cursor, 'timestamptz'), ...watermark.key.map((k, i) => typedLiteral(k, plan.source.keyTypes[i]))];
  return ` WHERE (${order}) > (${bound.join(', ')})`;
}

/** Full rows for a set of keys (plain values per key part). */
export function rowsByKeysQuery(plan: EntityPlan, keys: string[][]): string {
  if (plan.source.keys.length === 1) {
    // `= ANY(array)` is planned as an index scan; an IN (VALUES …) list may become a scan of the table.
    const values = keys.map((parts) => literal(parts[0])).join(', ');
    return `SELECT ${selectList(plan, true)} FROM ${from(plan)} WHERE ${column(plan.source.keys[0])} = ANY(ARRAY[${values}]::${plan.source.keyTypes[0]}[]) ORDER BY ${keyOrder(plan)}`;
  }
  const tuples = keys.map((parts) => `(${parts.map((p, i) => typedLiteral(p, plan.source.keyTypes[i])).join(', ')})`);
  const keyTuple = `(${plan.source.keys.map(column).join(', ')})`;
  return `SELECT ${selectList(plan, true)} FROM ${from(plan)} WHERE ${keyTuple} IN (VALUES ${tuples.join(', ')}) ORDER BY ${keyOrder(plan)}`;
}

/**
 * Reads an entity from a PostgreSQL source with COPY (values never leave the server as anything but
 * text). COPY takes no bind parameters, so values are quoted with `literal`, which is safe under
 * every `standard_conforming_strings` setting.
 */
export class PostgresReader implements TableReader {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly plan: EntityPlan,
  ) {}

  scan(withValues: boolean): AsyncIterable<Row> {
    return this.rows(withValues, `SELECT ${selectList(this.plan, withValues)} FROM ${from(this.plan)} ORDER BY ${keyOrder(this.plan)}`);
  }

  changedSince(watermark: Watermark | undefined): AsyncIterable<Row> {
    const order = [column(this.plan.source.updatedAt!), ...this.plan.source.keys.map(column)].join(', ');
    return this.rows(true, `SELECT ${selectList(this.plan, true)} FROM ${from(this.plan)}${afterWatermark(this.plan, watermark)} ORDER BY ${order}`);
  }

  byKeys(keys: string[][]): AsyncIterable<Row> {
    return this.rows(true, rowsByKeysQuery(this.plan, keys));
  }

  /**
   * The rows of a select list query. A SQL_ASCII database stores any bytes, and one value that is not
   * UTF-8 would fail the whole statement without naming its row: there, every column is sent as the
   * hex of its bytes and decoded here, and a row with a value that is not UTF-8 is marked for rejection.
   */
  private async *rows(withValues: boolean, query: string): AsyncGenerator<Row> {
    if (!(await storesUncheckedBytes(this.client))) {
      yield* copyOutRows(this.client, query);
      return;
    }
    const names = columnNames(this.plan, withValues);
    for await (const encoded of copyOutRows(this.client, asHex(query, names.length))) yield decodeUtf8Row(encoded, names);
  }

  async newestCursor(): Promise<Watermark | undefined> {
    const cursor = column(this.plan.source.updatedAt!);
    const keys = this.plan.source.keys.map(column);
    const desc = [cursor, ...keys].map((c) => `${c} DESC`).join(', ');
    const columns = [cursor, ...keys].map((c) => `${c}::text`);
    const result = await this.client.query({
      text: `SELECT ${columns.join(', ')} FROM ${from(this.plan)} WHERE ${cursor} IS NOT NULL ORDER BY ${desc} LIMIT 1`,
      rowMode: 'array',
    });
    if (result.rows.length === 0) return undefined;
    const [value, ...key] = (result.rows[0] as unknown[]).map(String);
    return { cursor: value, key };
  }

  async estimateRows(): Promise<number> {
    const result = await this.client.query(
      `SELECT GREATEST(c.reltuples, 0)::bigint AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [this.plan.source.schema, this.plan.source.table],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async countChangedSince(watermark: Watermark | undefined, cap: number): Promise<number> {
    const where = this.plan.source.updatedAt ? afterWatermark(this.plan, watermark) : '';
    const result = await this.client.query(`SELECT count(*)::bigint AS n FROM (SELECT 1 FROM ${from(this.plan)}${where} LIMIT ${Math.floor(cap)}) pending`);
    return Number(result.rows[0].n);
  }
}

/** The source column (or role) of each position of a select list row, for a rejection reason. */
function columnNames(plan: EntityPlan, withValues: boolean): string[] {
  const names = [...plan.source.keys, plan.source.updatedAt ?? '(cursor)', '(hash)', '(conditions)'];
  if (withValues) names.push(...[...plan.keyFields, ...plan.fields].map((f) => f.source), ...plan.match.map((m) => m.source));
  return names;
}
