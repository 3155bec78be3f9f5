import { FerryError } from '../../util/errors.js';

/**
 * Column types and text conversions. Values cross the connector seam as text: reads render every
 * column as text in SQL (so the driver never parses a value), writes normalise the common text forms
 * (booleans, offsets, `\x` hex) before the server casts them into typed stage columns.
 */
export interface ColumnType {
  /** Base type in lower case: `int`, `varchar`, `datetime`, ... */
  base: string;
  charset?: string;
  collation?: string;
  /** `tinyint(1)`: MySQL's boolean. */
  boolean: boolean;
}

const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const DATETIME_TYPES = new Set(['datetime', 'timestamp']);
const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

/** Reads a declared type as `catalog.ts` writes it: `varchar(20) CHARACTER SET latin1 COLLATE latin1_bin`. */
export function parseType(sqlType: string): ColumnType {
  const lower = sqlType.toLowerCase();
  const base = /^[a-z]+/.exec(lower)?.[0] ?? lower;
  const charset = / character set (\w+)/.exec(lower)?.[1];
  const collation = / collate (\w+)/.exec(lower)?.[1];
  return { base, charset, collation, boolean: /^tinyint\(1\)/.test(lower) };
}

export function isBinary(type: ColumnType): boolean {
  return BINARY_TYPES.has(type.base);
}

export function isDatetime(type: ColumnType): boolean {
  return DATETIME_TYPES.has(type.base);
}

export function isString(type: ColumnType): boolean {
  return STRING_TYPES.has(type.base) || type.charset !== undefined;
}

/** The SQL that renders a column as the text the connector hands the engine. */
export function textExpression(column: string, type: ColumnType): string {
  let expr = column;
  // X'5C78' is `\x` without a backslash in the SQL text (NO_BACKSLASH_ESCAPES cannot change its meaning).
  if (isBinary(type)) expr = `CONCAT(X'5C78', LOWER(HEX(${column})))`;
  else if (type.base === 'bit') expr = `CAST(${column} AS UNSIGNED)`;
  return `CAST(${expr} AS CHAR CHARACTER SET utf8mb4)`;
}

/** How a staged text value becomes the column's type on the server (after `toColumnText`). */
export function fromStageText(rawColumn: string, type: ColumnType): string {
  if (isBinary(type)) return `UNHEX(${rawColumn})`;
  if (type.base === 'bit') return `CAST(${rawColumn} AS UNSIGNED)`;
  return rawColumn;
}

/** A value the connector refuses before the server sees it; the message names no column (the caller adds it). */
export class ValueError extends FerryError {}

const TRUE_TEXT = new Set(['t', 'true', '1', 'y', 'yes', 'on']);
const FALSE_TEXT = new Set(['f', 'false', '0', 'n', 'no', 'off']);

/** Normalises an engine value for a column: booleans, UTC timestamps, binary as hex. */
export function toColumnText(value: string | null, type: ColumnType): string | null {
  if (value === null) return null;
  if (type.boolean || type.base === 'bit') return booleanText(value);
  if (isDatetime(type)) return utcDatetime(value);
  if (isBinary(type)) return binaryHex(value);
  return value;
}

function booleanText(value: string): string {
  const lower = value.trim().toLowerCase();
  if (TRUE_TEXT.has(lower)) return '1';
  if (FALSE_TEXT.has(lower)) return '0';
  return value;
}

function binaryHex(value: string): string {
  if (!value.startsWith('\\x')) return Buffer.from(value, 'utf8').toString('hex');
  const hex = value.slice(2);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new ValueError(`invalid hexadecimal binary value "${value.slice(0, 40)}"`);
  return hex;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?\d*\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A timestamp as MySQL's UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`: an offset (`+00`, `Z`, `+02:00`, as
 * PostgreSQL and ISO 8601 write them) is applied; none means UTC already. Other text passes
 * through for the server to judge (dates, zero dates).
 */
export function utcDatetime(value: string): string {
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return value;
  const [, year, month, day, hour, minute, second, fraction = '', offset] = match;
  const local = `${year}-${month}-${day} ${hour}:${minute}:${second}`;
  if (!offset || /^(z|[+-]00(:?00)?)$/i.test(offset)) return local + fraction;
  const sign = offset[0] === '-' ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const minutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) - minutes * 60_000;
  return new Date(utc).toISOString().slice(0, 19).replace('T', ' ') + fraction;
}
