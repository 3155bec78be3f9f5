import { hash } from 'node:crypto';
import type pg from 'pg';

/**
 * The hash PostgreSQL gives a freshly written row (`md5(ROW(columns)::text)`, TargetTable's
 * `hashExpression`), worked out in Ferry from the values as written, so a first import need not read
 * its rows back. Only where the stored text is certain to equal the written text: a column type
 * whose output function prints a value in its canonical form unchanged, a value in that form, and a
 * table no BEFORE INSERT trigger can change a row of. Any other row is read back.
 */
export type StoredRowHash = (values: (string | null)[]) => string | undefined;

/** What the server's settings and the table allow, asked once per table and session. */
export interface ServerTraits {
  /** Server and client encoding UTF8: `md5(text)` hashes the bytes Node's `hash` hashes. */
  utf8: boolean;
  /** DateStyle ISO: a date prints as YYYY-MM-DD. */
  isoDates: boolean;
  /** No byte of a non-ASCII character counts as a space to the server's isspace() (record_out quotes on spaces). */
  nonAsciiPlain: boolean;
  /** No BEFORE INSERT trigger on the table or any of its partitions (one could change a value). */
  untouched: boolean;
}

/** One character per UTF-8 lead byte above 0x7f, and every continuation byte (U+0080..U+00BF). */
const HIGH_BYTES = [
  ...Array.from({ length: 0x40 }, (_, i) => 0x80 + i),
  ...Array.from({ length: 0x1e }, (_, i) => (0xc2 + i - 0xc0) << 6),
  0x0800,
  ...Array.from({ length: 0x0f }, (_, i) => (0x1 + i) << 12),
  ...[0, 1, 2, 3, 4].map((i) => (i === 0 ? 0x10000 : i << 18)),
]
  .map((c) => String.fromCodePoint(c))
  .join('');

export async function serverTraits(client: pg.ClientBase, table: string): Promise<ServerTraits> {
  const result = await client.query(
    `SELECT current_setting('server_encoding') = 'UTF8' AND current_setting('client_encoding') = 'UTF8' AS utf8,
            current_setting('DateStyle') LIKE 'ISO%' AS iso_dates,
            ROW($1::text)::text = '(' || $1 || ')' AS non_ascii_plain,
            NOT EXISTS (SELECT 1 FROM pg_trigger
                         WHERE (tgrelid = $2::regclass OR tgrelid IN (SELECT relid FROM pg_partition_tree($2::regclass)))
                           AND NOT tgisinternal AND (tgtype & 6) = 6) AS untouched`,
    [HIGH_BYTES, table],
  );
  const row = result.rows[0];
  return { utf8: row.utf8, isoDates: row.iso_dates, nonAsciiPlain: row.non_ascii_plain, untouched: row.untouched };
}

/** Whether a value, written as it is, is the text the column prints back. */
type Canonical = (value: string) => boolean;

const INTEGER = /^(?:0|-?[1-9]\d*)$/;
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const NEGATIVE_ZERO = /^-0(?:\.0*)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VARCHAR_N = /^character varying\((\d+)\)$/;
const NUMERIC_PS = /^numeric\((\d+),(\d+)\)$/;

/** The canonical-form test of a column type (as format_type prints it), or undefined when Ferry does not know its output. */
export function canonicalTest(sqlType: string, traits: ServerTraits): Canonical | undefined {
  switch (sqlType) {
    case 'text':
    case 'character varying':
      return () => true;
    case 'smallint':
    case 'integer':
    case 'bigint':
      // Out of range fails the COPY: no hash is needed then.
      return (v) => INTEGER.test(v);
    case 'numeric':
      // An unconstrained numeric keeps the scale it was written with.
      return (v) => DECIMAL.test(v) && !NEGATIVE_ZERO.test(v);
    case 'date':
      // Invalid dates fail the COPY; a valid YYYY-MM-DD prints back unchanged in ISO style.
      return traits.isoDates ? (v) => ISO_DATE.test(v) : undefined;
    case 'boolean':
      return (v) => v === 't' || v === 'f';
    case 'uuid':
      return (v) => UUID.test(v);
  }
  const varchar = VARCHAR_N.exec(sqlType);
  if (varchar) {
    // Longer text is cut (trailing spaces) or refused; UTF-16 units >= characters, so this is safe.
    const limit = Number(varchar[1]);
    return (v) => v.length <= limit;
  }
  const numeric = NUMERIC_PS.exec(sqlType);
  if (numeric) {
    const scale = Number(numeric[2]);
    const form = new RegExp(scale === 0 ? '^-?(?:0|[1-9]\\d*)$' : `^-?(?:0|[1-9]\\d*)\\.\\d{${scale}}$`);
    return (v) => form.test(v) && !NEGATIVE_ZERO.test(v);
  }
  return undefined;
}

/** record_out quotes a field holding any of these (or an empty one), doubling `"` and `\`. */
const RECORD_QUOTE = /["\\(),\t\n\v\f\r ]/;
const RECORD_DOUBLE = /["\\]/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** The stored-row hasher for columns of these types, or undefined when no row of them can be hashed in Ferry. */
export function storedRowHash(columnTypes: string[], traits: ServerTraits): StoredRowHash | undefined {
  if (!traits.utf8 || !traits.untouched) return undefined;
  const tests: Canonical[] = [];
  for (const type of columnTypes) {
    const test = canonicalTest(type, traits);
    if (!test) return undefined;
    tests.push(test);
  }
  const { nonAsciiPlain } = traits;
  return (values) => {
    let text = '(';
    for (let i = 0; i < tests.length; i++) {
      if (i > 0) text += ',';
      const value = values[i];
      if (value === null) continue;
      if (value === undefined) return undefined;
      if (!tests[i]!(value)) return undefined;
      if (value === '') text += '""';
      else if (RECORD_QUOTE.test(value)) text += '"' + value.replace(RECORD_DOUBLE, '$&$&') + '"';
      else if (nonAsciiPlain || !NON_ASCII.test(value)) text += value;
      else return undefined;
    }
    return hash('md5', text + ')', 'hex');
  };
}
