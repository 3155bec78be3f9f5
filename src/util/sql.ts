import { ConfigError } from './errors.js';

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes `schema.table`. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

/**
 * Quotes a PostgreSQL string literal that means the same under every `standard_conforming_strings`
 * setting: a value with a backslash becomes an escape string (E'...') with the backslash doubled.
 * PostgreSQL text cannot hold NUL, so a value with one is refused rather than cut short.
 */
export function literal(value: string): string {
  if (value.includes('\0')) throw new ConfigError('a value contains a NUL character, which PostgreSQL text cannot hold');
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
