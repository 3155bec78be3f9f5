import type { KeyKind } from '../../engine/keys.js';
import { BYTES, exact, type Column } from './expressions.js';
import { joinSql, sql, type Sql } from './sql.js';
import { fromStageText, isString, toColumnText, ValueError } from './values.js';

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
