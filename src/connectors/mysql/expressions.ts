import type { ConditionClause, Normalisation, TransformName } from '../../engine/connector.js';
import type { KeyKind } from '../../engine/keys.js';
import { ConfigError } from '../../util/errors.js';
import { ident, joinSql, sql, type Sql } from './sql.js';
import { fromStageText, isBinary, isString, parseType, textExpression, toColumnText, ValueError, type ColumnType } from './values.js';

/** Column types of one table by name, for compiling expressions over it. */
export type ColumnTypes = Map<string, ColumnType>;

/** A column of a table under an alias, with what is needed to render and compare it. */
export interface Column {
  name: string;
  sql: string;
  type: ColumnType;
}

export function column(alias: string, name: string, types: ColumnTypes): Column {
  const type = types.get(name);
  if (!type) throw new ConfigError(`column "${name}" does not exist`);
  return { name, sql: `${alias}.${ident(name)}`, type };
}

/** A column known by its declared type; alias '' = the bare name (e.g. in RETURNING). */
export function keyColumn(alias: string, name: string, sqlType: string): Column {
  return { name, sql: alias ? `${alias}.${ident(name)}` : ident(name), type: parseType(sqlType) };
}

export function text(c: Column): string {
  return textExpression(c.sql, c.type);
}

/** The column's text as bytes: equality and order exactly as the engine compares text (no collation, no padding). */
export function exact(c: Column): string {
  return `CAST(${text(c)} AS BINARY)`;
}

// Collations that already order by code point (UTF-8 byte order) without padding: the key index can serve the order.
const BYTE_ORDER_COLLATIONS = new Set(['utf8mb4_nopad_bin', 'utf8mb4_0900_bin']);

/** The engine's key order: integers numerically, everything else by the bytes of its text. */
export function orderBy(c: Column, kind: KeyKind): string {
  if (kind === 'integer' || isBinary(c.type)) return c.sql;
  if (c.type.charset === 'utf8mb4' && c.type.collation && BYTE_ORDER_COLLATIONS.has(c.type.collation)) return c.sql;
  return exact(c);
}

export function transform(expr: string, name: TransformName): string {
  switch (name) {
    case 'Trim':
      return `TRIM(${expr})`;
    case 'Lower':
      return `LOWER(${expr})`;
    case 'Upper':
      return `UPPER(${expr})`;
    default:
      return expr;
  }
}

export function normalise(expr: string, mode: Normalisation): string {
  switch (mode) {
    case 'Lower':
      return `LOWER(${expr})`;
    case 'Trim':
      return `TRIM(${expr})`;
    case 'LowerTrim':
      return `LOWER(TRIM(${expr}))`;
    default:
      return expr;
  }
}

/** MD5 over the texts: JSON_ARRAY keeps NULL and '' apart and needs no separator that a value could contain. */
export function hashOf(texts: string[]): string {
  return `MD5(JSON_ARRAY(${texts.join(', ')}))`;
}

const BYTES = 'CAST(? AS BINARY)';

function bytesList(count: number): string {
  return new Array(count).fill(BYTES).join(', ');
}

/** The source conditions: AND across clauses, OR across a clause's values, values compared with the column's exact text. */
export function conditionSql(clauses: ConditionClause[], alias: string, types: ColumnTypes): Sql {
  if (clauses.length === 0) return sql('TRUE');
  const parts = clauses.map((clause) => {
    const c = column(alias, clause.field, types);
    switch (clause.operator) {
      case 'In':
        return clause.values.length === 0 ? sql('FALSE') : sql(`${exact(c)} IN (${bytesList(clause.values.length)})`, clause.values);
      case 'NotIn':
        return clause.values.length === 0
          ? sql('TRUE')
          : sql(`(${c.sql} IS NULL OR ${exact(c)} NOT IN (${bytesList(clause.values.length)}))`, clause.values);
      case 'IsNull':
        return sql(`${c.sql} IS NULL`);
      case 'NotNull':
        return sql(`${c.sql} IS NOT NULL`);
      default:
        throw new ConfigError(`unknown condition operator ${String(clause.operator)}`);
    }
  });
  return joinSql(
    parts.map((p) => ({ ...p, text: `(${p.text})` })),
    ' AND ',
  );
}

/** Keys per statement, and the sizes a statement is padded to (few distinct statements to prepare). */
export const KEY_CHUNK = 1024;
const BUCKETS = [1, 4, 16, 64, 256, 1024];

export function* keyChunks<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += KEY_CHUNK) yield items.slice(i, i + KEY_CHUNK);
}

function padded<T>(items: T[]): T[] {
  const size = BUCKETS.find((b) => b >= items.length) ?? items.length;
  const out = items.slice();
  while (out.length < size) out.push(items[items.length - 1]);
  return out;
}

/** A parameter compared with a column as the column's own type and collation, so the key index is used. */
function coarseParam(c: Column): string {
  if (!isString(c.type) || !c.type.charset || !c.type.collation) return fromStageText('?', c.type);
  return `CONVERT(? USING ${c.type.charset}) COLLATE ${c.type.collation}`;
}

/** A key part as its column takes it (binary from `\x` hex, booleans, UTC); text that cannot be converted matches nothing. */
function coarseValue(value: string, c: Column): string | null {
  try {
    return toColumnText(value, c.type);
  } catch (error) {
    if (error instanceof ValueError) return null;
    throw error;
  }
}

function tuple(items: string[]): string {
  return items.length === 1 ? items[0] : `(${items.join(', ')})`;
}

/**
 * Rows whose key equals one of `keys` (at most KEY_CHUNK): an indexable comparison in the column
 * collation narrows the rows, the byte comparison of the text keeps only exact matches ('ABC' is not
 * 'abc', 'a ' is not 'a').
 */
export function valuesFilter(columns: Column[], kinds: KeyKind[], keys: string[][]): Sql {
  if (keys.length === 0) return sql('FALSE');
  const rows = padded(keys);
  const coarseRow = tuple(columns.map(coarseParam));
  const coarse = sql(
    `${tuple(columns.map((c) => c.sql))} IN (${rows.map(() => coarseRow).join(', ')})`,
    rows.flatMap((row) => row.map((v, i) => coarseValue(v, columns[i]))),
  );
  const textParts = kinds.flatMap((kind, i) => (kind === 'integer' ? [] : [i]));
  if (textParts.length === 0) return coarse;
  const exactRow = tuple(textParts.map(() => BYTES));
  const exactSql = sql(
    `${tuple(textParts.map((i) => exact(columns[i])))} IN (${rows.map(() => exactRow).join(', ')})`,
    rows.flatMap((row) => textParts.map((i) => row[i])),
  );
  return joinSql([coarse, exactSql], ' AND ');
}

/** `(columns) > (values)` in the engine's key order: integers numerically, text by bytes. */
export function keysAfter(columns: Column[], kinds: KeyKind[], values: string[]): Sql {
  const compare = (i: number, op: string) =>
    kinds[i] === 'integer' ? sql(`${columns[i].sql} ${op} CAST(? AS DECIMAL(65, 0))`, [values[i]]) : sql(`${exact(columns[i])} ${op} ${BYTES}`, [values[i]]);
  const alternatives: Sql[] = [];
  for (let i = 0; i < columns.length; i++) {
    const equalPrefix = Array.from({ length: i }, (_, j) => compare(j, '='));
    alternatives.push(joinSql([...equalPrefix, compare(i, '>')], ' AND '));
  }
  return joinSql(
    alternatives.map((a) => ({ ...a, text: `(${a.text})` })),
    ' OR ',
  );
}

