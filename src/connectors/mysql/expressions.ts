import { UNMAPPED_MARK, type Normalisation, type PlannedValueMap, type TransformName } from '../../engine/connector.js';
import type { KeyKind } from '../../engine/keys.js';
import { ConfigError } from '../../util/errors.js';
import { ident } from './sql.js';
import { isBinary, parseType, textExpression, type ColumnType } from './values.js';

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
export function typedColumn(alias: string, name: string, sqlType: string): Column {
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

/** Text as a literal that needs no escaping: its UTF-8 bytes in hex, read as utf8mb4. */
function textLiteral(value: string): string {
  return `CONVERT(X'${Buffer.from(value, 'utf8').toString('hex')}' USING utf8mb4)`;
}

/** A mapped field's value as the other side gets it: the transform, then the value map (compared byte-wise). */
export function mappedValue(expr: string, field: { transform: TransformName; valueMap?: PlannedValueMap }): string {
  const transformed = transform(expr, field.transform);
  const map = field.valueMap;
  if (!map) return transformed;
  const whens = map.pairs.map(([from, to]) => `WHEN X'${Buffer.from(from, 'utf8').toString('hex')}' THEN ${textLiteral(to)}`).join(' ');
  const otherwise = map.unmapped === 'Null' ? 'NULL' : map.unmapped === 'Reject' ? `CONCAT(${textLiteral(UNMAPPED_MARK)}, ${transformed})` : transformed;
  return `CASE CAST(${transformed} AS BINARY) ${whens} ELSE ${otherwise} END`;
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

/** A parameter as bytes, compared with `exact`. */
export const BYTES = 'CAST(? AS BINARY)';

export function bytesList(count: number): string {
  return new Array(count).fill(BYTES).join(', ');
}
