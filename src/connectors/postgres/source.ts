import { ident, literal, qualified } from '../../util/sql.js';
import { orderExpression } from '../keys.js';
import type { EntityPlan } from '../plan.js';

/**
 * SQL for reading an entity from the source. Every query returns the columns
 * `[...keys, cursor, hash, inScope, ...values, ...matchValues]` (values and match values only when
 * `withValues`), where the hash is
 * computed by the source server over the mapped, transformed values, so an unchanged row costs only
 * its key and hash on the wire.
 */
export const SOURCE_LAYOUT = {
  cursor: (plan: EntityPlan) => plan.source.keys.length,
  hash: (plan: EntityPlan) => plan.source.keys.length + 1,
  inScope: (plan: EntityPlan) => plan.source.keys.length + 2,
  firstValue: (plan: EntityPlan) => plan.source.keys.length + 3,
};

/** The source-side value expressions in stage order: target key fields first, then the rest. */
export function valueExpressions(plan: EntityPlan): string[] {
  return [...plan.keyFields, ...plan.fields].map((f) => f.sourceExpr);
}

export function sourceHashExpression(plan: EntityPlan): string {
  return `md5(ROW(${valueExpressions(plan).join(', ')})::text)`;
}

function selectList(plan: EntityPlan, withValues: boolean): string {
  const keys = plan.source.keys.map(ident);
  const cursor = plan.source.updatedAt ? ident(plan.source.updatedAt) : 'NULL::timestamptz';
  const columns = [...keys, cursor, sourceHashExpression(plan), `(${plan.source.inScopeSql})`];
  if (withValues) {
    columns.push(...valueExpressions(plan));
    columns.push(...plan.match.map((m) => `(${ident(m.source)})::text`));
  }
  return columns.join(', ');
}

// ORDER BY a bare name would pick an output column of that name first; qualified names never do.
const ALIAS = 'src';

function from(plan: EntityPlan): string {
  return `${qualified(plan.source.schema, plan.source.table)} AS ${ALIAS}`;
}

function keyOrder(plan: EntityPlan): string {
  return plan.source.keys.map((k, i) => orderExpression(`${ALIAS}.${ident(k)}`, plan.source.keyKinds[i])).join(', ');
}

/** All rows in key order (Full mode). */
export function fullScanQuery(plan: EntityPlan, withValues: boolean): string {
  return `SELECT ${selectList(plan, withValues)} FROM ${from(plan)} ORDER BY ${keyOrder(plan)}`;
}

function keyTuple(plan: EntityPlan): string {
  return `(${plan.source.keys.map(ident).join(', ')})`;
}

function typedLiteral(value: string, sqlType: string): string {
  return `${literal(value)}::${sqlType}`;
}

/** Rows after a watermark, in tie-safe `(updatedAt, key)` order (Incremental mode). */
export function incrementalQuery(plan: EntityPlan, watermark: { cursor: string; key: string[] } | undefined): string {
  const cursor = `${ALIAS}.${ident(plan.source.updatedAt!)}`;
  const order = [cursor, ...plan.source.keys.map((k) => `${ALIAS}.${ident(k)}`)].join(', ');
  let where = '';
  if (watermark) {
    const bound = [
      typedLiteral(watermark.cursor, 'timestamptz'),
      ...watermark.key.map((k, i) => typedLiteral(k, plan.source.keyTypes[i])),
    ].join(', ');
    where = ` WHERE (${order}) > (${bound})`;
  }
  return `SELECT ${selectList(plan, true)} FROM ${from(plan)}${where} ORDER BY ${order}`;
}

/** Full rows for a set of keys (plain values per key part). */
export function rowsByKeysQuery(plan: EntityPlan, keys: string[][]): string {
  if (plan.source.keys.length === 1) {
    // `= ANY(array)` is planned as an index scan; an IN (VALUES …) list may become a scan of the table.
    const values = keys.map((parts) => literal(parts[0])).join(', ');
    const key = `${ALIAS}.${ident(plan.source.keys[0])}`;
    return `SELECT ${selectList(plan, true)} FROM ${from(plan)} WHERE ${key} = ANY(ARRAY[${values}]::${plan.source.keyTypes[0]}[]) ORDER BY ${keyOrder(plan)}`;
  }
  const tuples = keys.map((parts) => `(${parts.map((p, i) => typedLiteral(p, plan.source.keyTypes[i])).join(', ')})`);
  return `SELECT ${selectList(plan, true)} FROM ${from(plan)} WHERE ${keyTuple(plan)} IN (VALUES ${tuples.join(', ')}) ORDER BY ${keyOrder(plan)}`;
}

/** The newest `(updatedAt, key)` of the table: the watermark a Full run re-sets. */
export function maxCursorQuery(plan: EntityPlan): string {
  const cursor = `${ALIAS}.${ident(plan.source.updatedAt!)}`;
  const keys = plan.source.keys.map((k) => `${ALIAS}.${ident(k)}`);
  const desc = [cursor, ...keys].map((c) => `${c} DESC`).join(', ');
  const columns = [cursor, ...keys].map((c) => `${c}::text`);
  return `SELECT ${columns.join(', ')} FROM ${from(plan)} WHERE ${cursor} IS NOT NULL ORDER BY ${desc} LIMIT 1`;
}

export function estimatedRowsQuery(plan: EntityPlan): { text: string; values: string[] } {
  return {
    text: `SELECT GREATEST(c.reltuples, 0)::bigint AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    values: [plan.source.schema, plan.source.table],
  };
}
