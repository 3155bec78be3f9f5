import type { ExportValueKind } from '../../export/source.js';
import type { Db } from './db.js';
import { sql } from './sql.js';
import { isBinary, parseType, type ColumnType } from './values.js';

const NUMBER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year', 'bit']);

/**
 * How a column's values are written to a file, matching what PostgreSQL writes for the equivalent
 * type: TINYINT(1) as a boolean, DATETIME as a timestamp without zone, TIMESTAMP (read in UTC) as a
 * timestamp with zone, binary as `\x` hex, ENUM and SET as text.
 */
export function exportKind(type: ColumnType, json: boolean): ExportValueKind {
  if (json || type.base === 'json') return 'json';
  if (type.boolean) return 'boolean';
  if (NUMBER_TYPES.has(type.base)) return 'number';
  if (isBinary(type)) return 'binary';
  switch (type.base) {
    case 'datetime':
      return 'timestamp';
    case 'timestamp':
      return 'timestamptz';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    default:
      return 'text';
  }
}

/**
 * The columns of a table declared JSON. MariaDB stores JSON as LONGTEXT with a `json_valid` CHECK
 * (MySQL reports the type `json` itself, and has no TABLE_NAME in this view).
 */
export async function jsonColumns(db: Db, schema: string, table: string): Promise<Set<string>> {
  try {
    const rows = await db.rows(
      sql(
        `SELECT CAST(CHECK_CLAUSE AS CHAR) FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?`,
        [schema, table],
      ),
    );
    return new Set(rows.flatMap(([clause]) => /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause ?? '')?.[1]?.replace(/``/g, '`') ?? []));
  } catch {
    return new Set();
  }
}

/** What mysql2 reports of a result column. */
export interface ResultField {
  name: string;
  columnType?: number;
  columnLength?: number;
  characterSet?: number;
}

const BINARY_CHARSET = 63;

// Protocol type codes (include/mysql_com.h, enum_field_types) by the declared type they come from.
const TYPE_CODES: Record<number, string> = {
  0: 'decimal', 246: 'decimal', 1: 'tinyint', 2: 'smallint', 3: 'int', 4: 'float', 5: 'double', 8: 'bigint', 9: 'mediumint',
  13: 'year', 7: 'timestamp', 17: 'timestamp', 12: 'datetime', 18: 'datetime', 10: 'date', 14: 'date', 11: 'time', 19: 'time',
  16: 'bit', 245: 'json', 247: 'enum', 248: 'set', 255: 'blob',
};

/**
 * A free query's column type from its result metadata. Text and binary share type codes and differ
 * by character set. MariaDB reports a JSON column as text here, so a query's JSON is exported as text.
 */
export function resultFieldType(field: ResultField): ColumnType {
  const code = field.columnType ?? 253;
  const binary = field.characterSet === BINARY_CHARSET;
  const known = TYPE_CODES[code];
  if (known) return parseType(known === 'tinyint' && field.columnLength === 1 ? 'tinyint(1)' : known);
  if (code >= 249 && code <= 252) return parseType(binary ? 'blob' : 'longtext');
  if (code === 254) return parseType(binary ? 'binary' : 'char');
  return parseType(binary ? 'varbinary' : 'varchar');
}
