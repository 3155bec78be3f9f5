/**
 * Type compatibility of mapped columns, judged from the databases' catalogs alone (no driver): each
 * column's type falls into a family, and a mapping is flagged when the target's family cannot hold
 * every value of the source's family. Widths (varchar(20), int4 vs int8) are left to the run, which
 * rejects the single row that does not fit.
 */

export const TYPE_FAMILIES = ['integer', 'decimal', 'float', 'boolean', 'text', 'date', 'timestamp', 'time', 'json', 'binary', 'uuid'] as const;
export type TypeFamily = (typeof TYPE_FAMILIES)[number];

/** A column's type as a connector's catalog describes it (`ColumnInfo.typeName` and `sqlType`). */
export interface ColumnType {
  /** Base type name in lower case, e.g. `int8`, `varchar`, `tinyint`. */
  typeName: string;
  /** The declared type, e.g. `tinyint(1)`, `character varying(120)`. */
  sqlType: string;
}

// PostgreSQL (pg_type.typname) and MySQL/MariaDB (information_schema DATA_TYPE) names, plus common aliases.
const NAMES: Record<TypeFamily, readonly string[]> = {
  integer: ['int2', 'int4', 'int8', 'smallint', 'integer', 'bigint', 'tinyint', 'mediumint', 'int', 'year', 'serial', 'bigserial', 'smallserial'],
  decimal: ['numeric', 'decimal', 'money'],
  float: ['float4', 'float8', 'real', 'double precision', 'float', 'double'],
  boolean: ['bool', 'boolean'],
  text: [
    'text', 'varchar', 'bpchar', 'char', 'name', 'citext', 'character', 'character varying',
    'tinytext', 'mediumtext', 'longtext', 'enum', 'set', 'xml',
  ],
  date: ['date'],
  timestamp: ['timestamp', 'timestamptz', 'datetime', 'timestamp with time zone', 'timestamp without time zone'],
  time: ['time', 'timetz', 'time with time zone', 'time without time zone'],
  json: ['json', 'jsonb'],
  binary: ['bytea', 'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'],
  uuid: ['uuid'],
};

const FAMILY_OF = new Map(Object.entries(NAMES).flatMap(([family, names]) => names.map((name) => [name, family as TypeFamily])));

/**
 * The source families each target family holds every value of. Text holds anything; numbers widen
 * (integer -> decimal -> float); a date is a timestamp at midnight; binary columns take text as its
 * UTF-8 bytes.
 */
const HOLDS: Record<TypeFamily, readonly TypeFamily[]> = {
  integer: ['integer'],
  decimal: ['integer', 'decimal', 'float'],
  float: ['integer', 'decimal', 'float'],
  boolean: ['boolean'],
  text: TYPE_FAMILIES,
  date: ['date'],
  timestamp: ['date', 'timestamp'],
  time: ['time'],
  json: ['json'],
  binary: ['binary', 'text', 'json', 'uuid'],
  uuid: ['uuid'],
};

/**
 * MySQL has no boolean type: BOOLEAN is `tinyint(1)`, read as 0/1 and written from any boolean text.
 * It is also a small integer, so it pairs with integer columns both ways (widths are the run's business).
 */
function isMysqlBoolean(type: ColumnType): boolean {
  return type.typeName.trim().toLowerCase() === 'tinyint' && /^tinyint\(1\)/i.test(type.sqlType.trim());
}

/** The family of a column type; undefined for types Ferry does not judge (arrays, intervals, bits, geometry, domains). */
export function typeFamily(type: ColumnType): TypeFamily | undefined {
  if (isMysqlBoolean(type)) return 'boolean';
  return FAMILY_OF.get(type.typeName.trim().toLowerCase());
}

/** True when a column of family `target` can hold every value of family `source`. */
export function familyHolds(target: TypeFamily, source: TypeFamily): boolean {
  return HOLDS[target].includes(source);
}

/**
 * The families of a mapping whose target cannot hold the source's values; undefined when the
 * mapping is fine or either type is one Ferry does not judge.
 */
export function typeMismatch(target: ColumnType, source: ColumnType): { target: TypeFamily; source: TypeFamily } | undefined {
  const targetFamily = typeFamily(target);
  const sourceFamily = typeFamily(source);
  if (!targetFamily || !sourceFamily || familyHolds(targetFamily, sourceFamily)) return undefined;
  if (isMysqlBoolean(source) && familyHolds(targetFamily, 'integer')) return undefined;
  if (isMysqlBoolean(target) && sourceFamily === 'integer') return undefined;
  return { target: targetFamily, source: sourceFamily };
}
