import type pg from 'pg';
import { characterFlags, CopyData } from '../../util/copy-text.js';
import { Md5Text } from '../../util/md5.js';

/**
 * The hash PostgreSQL gives a freshly written row (`md5(ROW(columns)::text)`, TargetTable's
 * `hashExpression`), worked out in Ferry from the values as written, so a first import need not read
 * its rows back. Only where the stored text is certain: a column type whose output Ferry knows, a
 * value in a form it prints in a known way (most print back as written; numeric(p,s) pads the scale,
 * boolean prints t/f, a UTC timestamp prints ISO style), and a table no BEFORE INSERT trigger can
 * change a row of. Any other row is read back.
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
  /** TimeZone UTC: a timestamptz prints with offset +00. */
  utcSession: boolean;
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
  // The table and its partitions (pg_inherits, not pg_partition_tree: any server version).
  const result = await client.query(
    `WITH RECURSIVE tree(relid) AS (SELECT $2::regclass::oid UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
     SELECT current_setting('server_encoding') = 'UTF8' AND current_setting('client_encoding') = 'UTF8' AS utf8,
            current_setting('DateStyle') LIKE 'ISO%' AS iso_dates,
            current_setting('TimeZone') = 'UTC' AS utc_session,
            ROW($1::text)::text = '(' || $1 || ')' AS non_ascii_plain,
            NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid IN (SELECT relid FROM tree) AND NOT tgisinternal AND (tgtype & 6) = 6) AS untouched`,
    [HIGH_BYTES, table],
  );
  const row = result.rows[0];
  return { utf8: row.utf8, isoDates: row.iso_dates, utcSession: row.utc_session, nonAsciiPlain: row.non_ascii_plain, untouched: row.untouched };
}

/** The text a column prints back for a value written as it is, or undefined when Ferry cannot be sure of it. */
type StoredText = (value: string) => string | undefined;

const INTEGER = /^(?:0|-?[1-9]\d*)$/;
/** A timestamp in UTC (or with no zone) and its fraction of a second. */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?:\.(\d+))?(?:Z|\+00(?::?00)?)?$/;
const TIMESTAMP_TYPE = /^timestamp(?:\((\d)\))? with(out)? time zone$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VARCHAR_N = /^character varying\((\d+)\)$/;
const NUMERIC_PS = /^numeric\((\d+),(\d+)\)$/;
const TRAILING_ZEROS = /0+$/;

const same: StoredText = (v) => v;
const when =
  (test: (v: string) => boolean): StoredText =>
  (v) =>
    test(v) ? v : undefined;

/** numeric(p,s) prints `s` decimals: a value with fewer is padded; one with more would be rounded (not worked out). */
function scaledDecimal(scale: number): StoredText {
  const zeros = Array.from({ length: scale + 1 }, (_, n) => '0'.repeat(n));
  // A scan, not a regular expression with groups: no match array or substrings per value (it runs for every fresh row).
  return (v) => {
    const fraction = decimalFraction(v);
    if (fraction < 0 || fraction > scale) return undefined;
    if (fraction === scale) return v;
    return fraction === 0 ? `${v}.${zeros[scale]}` : v + zeros[scale - fraction];
  };
}

/** The number of decimals of a plain decimal `-?(0|[1-9]\d*)(\.\d+)?` that is not a negative zero, else -1. */
function decimalFraction(v: string): number {
  const n = v.length;
  const negative = v.charCodeAt(0) === 45; // -
  let i = negative ? 1 : 0;
  const first = v.charCodeAt(i++);
  if (!isDigit(first)) return -1;
  // No leading zero: "0" alone, or a digit 1-9 and any more.
  if (first !== 48) while (i < n && isDigit(v.charCodeAt(i))) i++;
  let zero = first === 48;
  if (i === n) return negative && zero ? -1 : 0;
  if (v.charCodeAt(i) !== 46) return -1; // .
  const start = ++i;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c)) return -1;
    if (c !== 48) zero = false;
  }
  if (i === start || (negative && zero)) return -1;
  return n - start;
}

/** `YYYY-MM-DD` (digits and dashes; a scan, not a regular expression per value). */
function isIsoDate(v: string): boolean {
  if (v.length !== 10 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return false;
  for (let i = 0; i < 10; i++) if (i !== 4 && i !== 7 && !isDigit(v.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * A timestamp prints ISO style, its fraction without trailing zeros; with time zone in a UTC session
 * it ends in +00, without one the zone written is ignored. More digits than the precision are rounded (not worked out).
 */
function utcTimestamp(precision: number, withZone: boolean): StoredText {
  return (v) => {
    const parts = UTC_TIMESTAMP.exec(v);
    if (!parts) return undefined;
    const written = parts[3] ?? '';
    if (written.length > precision) return undefined;
    const fraction = written.replace(TRAILING_ZEROS, '');
    return `${parts[1]} ${parts[2]}${fraction ? `.${fraction}` : ''}${withZone ? '+00' : ''}`;
  };
}

/** How a column type (as format_type prints it) stores a value, or undefined when Ferry does not know its output. */
export function storedText(sqlType: string, traits: ServerTraits): StoredText | undefined {
  switch (sqlType) {
    case 'text':
    case 'character varying':
      return same;
    case 'smallint':
    case 'integer':
    case 'bigint':
      // Out of range fails the COPY: no hash is needed then.
      return when((v) => INTEGER.test(v));
    case 'numeric':
      // An unconstrained numeric keeps the scale it was written with.
      return when((v) => decimalFraction(v) >= 0);
    case 'date':
      // Invalid dates fail the COPY; a valid YYYY-MM-DD prints back unchanged in ISO style.
      return traits.isoDates ? when(isIsoDate) : undefined;
    case 'boolean':
      return (v) => (v === 't' || v === 'true' ? 't' : v === 'f' || v === 'false' ? 'f' : undefined);
    case 'uuid':
      return when((v) => UUID.test(v));
  }
  const varchar = VARCHAR_N.exec(sqlType);
  if (varchar) {
    // Longer text is cut (trailing spaces) or refused; UTF-16 units >= characters, so this is safe.
    const limit = Number(varchar[1]);
    return when((v) => v.length <= limit);
  }
  const numeric = NUMERIC_PS.exec(sqlType);
  if (numeric) return scaledDecimal(Number(numeric[2]));
  const timestamp = TIMESTAMP_TYPE.exec(sqlType);
  if (timestamp) {
    const withZone = timestamp[2] === undefined;
    if (!traits.isoDates || (withZone && !traits.utcSession)) return undefined;
    return utcTimestamp(timestamp[1] === undefined ? 6 : Number(timestamp[1]), withZone);
  }
  return undefined;
}

/** Column types whose stored text (as worked out above) is ASCII without any character record_out quotes. */
function printsPlain(sqlType: string): boolean {
  return ['smallint', 'integer', 'bigint', 'numeric', 'date', 'boolean', 'uuid'].includes(sqlType) || NUMERIC_PS.test(sqlType);
}

/** record_out quotes a field holding any of `"\(),` or an ASCII space (or an empty one), doubling `"` and `\`. */
const QUOTED_FLAG = 1;
const DOUBLED_FLAG = 2;
const RECORD_FLAGS: Record<string, number> = { '"': DOUBLED_FLAG, '\\': DOUBLED_FLAG };
for (const c of '(), \t\n\v\f\r') RECORD_FLAGS[c] = QUOTED_FLAG;
/** COPY's flags per character plus record_out's: one scan of a value writes its COPY field and tells how record_out prints it. */
const COPY_AND_RECORD = characterFlags(RECORD_FLAGS);
const RECORD_DOUBLES = /["\\]/g;

/** How record_out prints a field (see `recordField`). */
const PLAIN = 0;
const QUOTED = 1;
const DOUBLED = 2;
/** Plain unless a non-ASCII byte counts as a space to the server: not worked out. */
const NON_ASCII = 3;

/**
 * One scan of a non-empty value (for values COPY writes escaped or as UTF-8; the others are scanned
 * by `CopyData.field`): DOUBLED when it holds `"` or `\`, else QUOTED when it holds another character
 * record_out quotes, else NON_ASCII when it holds a character above U+007F, else PLAIN.
 */
function recordField(value: string): number {
  let found = PLAIN;
  let high = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) high = true;
    else if (COPY_AND_RECORD[c]! & DOUBLED_FLAG) return DOUBLED;
    else if (COPY_AND_RECORD[c]! & QUOTED_FLAG) found = QUOTED;
  }
  return found === PLAIN && high ? NON_ASCII : found;
}

/** How a column's values are worked out: text as written (of bounded length), numeric(p,s), an ISO date, or its StoredText (printed plain or checked by record_out's rules). */
const AS_WRITTEN = 0;
const BOUNDED = 1;
const SCALED = 2;
const ISO_DATE = 3;
const STORED_PLAIN = 4;
const STORED = 5;

const QUOTE = 0x22;
const ZERO = 0x30;

/**
 * Writes fresh rows' values as COPY fields and works out each row's stored hash in the same pass:
 * the row text `ROW(columns)::text` prints is built as bytes in one buffer reused for every row (no
 * string per value or per row), from the scan that wrote the COPY field.
 */
export class FreshRowWriter {
  /** The row text being built, hashed in place. */
  private readonly text = new Md5Text(1024);
  private record = this.text.bytes;
  private at = 0;

  constructor(
    private readonly kinds: number[],
    /** Per column: its length limit (BOUNDED), its scale (SCALED), or unused. */
    private readonly limits: number[],
    private readonly columns: StoredText[],
    private readonly nonAsciiPlain: boolean,
  ) {}

  /** COPY data whose fields report record_out's flags (for `write`). */
  copyData(size?: number): CopyData {
    return new CopyData(COPY_AND_RECORD, size);
  }

  /**
   * Adds the values to `data` (from `copyData`) as the rest of a COPY line (the last one ends it) and
   * returns the hash the row will have once stored, or undefined when Ferry cannot be sure of it.
   */
  write(values: (string | null)[], data: CopyData): string | undefined {
    return this.row(values, data) ? this.text.hex(this.at) : undefined;
  }

  /**
   * As `write`, but the hash's 32 hex digits are put at `at` of `digests` instead of returned (a
   * batch's digests make one string, see `TargetTable.copyFresh`); false, with nothing put, when not certain.
   */
  writeDigest(values: readonly (string | null)[], data: CopyData, digests: Uint8Array, at: number, endLine = true, from = 0): boolean {
    if (!this.row(values, data, endLine, from)) return false;
    this.text.hexInto(this.at, digests, at);
    return true;
  }

  /**
   * Adds the values to `data` and builds the row text (`this.at` bytes); false when its stored text is
   * not certain. `endLine` false: every value is followed by a tab (the line goes on with more fields).
   * The row's values are those of `values` from index `from` on.
   */
  private row(values: readonly (string | null)[], data: CopyData, endLine = true, from = 0): boolean {
    const count = this.kinds.length;
    let known = true;
    this.at = 0;
    this.byte(0x28); // (
    for (let i = 0; i < count; i++) {
      const last = endLine && i === count - 1;
      if (known && i > 0) this.byte(0x2c); // ,
      const written = values[from + i];
      if (written === null) {
        data.field(null, last);
        continue;
      }
      if (written === undefined) known = false;
      const start = data.length;
      const flags = data.field(written, last);
      if (known) known = this.stored(i, written, flags, data.buffer, start);
    }
    if (!known) return false;
    this.byte(0x29); // )
    return true;
  }

  /**
   * Adds the stored text of column `i`'s value (written to COPY with `flags`, from `start` of `copied`)
   * to the row text; false when it is not certain.
   */
  private stored(i: number, written: string, flags: number, copied: Uint8Array, start: number): boolean {
    const kind = this.kinds[i]!;
    if (kind === AS_WRITTEN || kind === BOUNDED) {
      // Longer text is cut (trailing spaces) or refused; UTF-16 units >= characters, so this is safe.
      if (kind === BOUNDED && written.length > this.limits[i]!) return false;
      if (written.length === 0) {
        this.byte(QUOTE);
        this.byte(QUOTE);
        return true;
      }
      if (flags < 0) return this.recordText(written);
      if (flags & DOUBLED_FLAG) return this.recordText(written);
      if (flags & QUOTED_FLAG) {
        this.byte(QUOTE);
        this.bytes(copied, start, written.length);
        this.byte(QUOTE);
      } else this.bytes(copied, start, written.length);
      return true;
    }
    if (kind === SCALED) {
      // numeric(p,s) prints `s` decimals: a value with fewer is padded; one with more would be rounded (not worked out).
      const scale = this.limits[i]!;
      const fraction = decimalFraction(written);
      if (fraction < 0 || fraction > scale) return false;
      this.asWritten(written, flags, copied, start);
      if (fraction === 0 && scale > 0) this.byte(0x2e); // .
      for (let n = fraction; n < scale; n++) this.byte(ZERO);
      return true;
    }
    if (kind === ISO_DATE) {
      if (!isIsoDate(written)) return false;
      this.asWritten(written, flags, copied, start);
      return true;
    }
    const value = this.columns[i]!(written);
    if (value === undefined) return false;
    if (kind === STORED_PLAIN) {
      this.ascii(value);
      return true;
    }
    return value === '' ? (this.byte(QUOTE), this.byte(QUOTE), true) : this.recordText(value);
  }

  /** Adds a non-empty value as record_out prints it (quoted, doubled, UTF-8), or false when not certain. */
  private recordText(value: string): boolean {
    const field = recordField(value);
    if (field === NON_ASCII && !this.nonAsciiPlain) return false;
    const text = field === PLAIN || field === NON_ASCII ? value : field === QUOTED ? `"${value}"` : `"${value.replace(RECORD_DOUBLES, '$&$&')}"`;
    this.room(3 * text.length);
    this.at += this.record.write(text, this.at, 'utf8');
    return true;
  }

  /** Adds an ASCII value as its COPY field was written (`flags` >= 0: the same bytes, copied rather than read from the string again). */
  private asWritten(value: string, flags: number, copied: Uint8Array, start: number): void {
    if (flags >= 0) this.bytes(copied, start, value.length);
    else this.ascii(value);
  }

  /** Adds `length` bytes of `source` from `start`, a byte at a time (a native copy costs more for a few bytes). */
  private bytes(source: Uint8Array, start: number, length: number): void {
    this.room(length);
    const record = this.record;
    let at = this.at;
    for (let i = start, end = start + length; i < end; i++) record[at++] = source[i]!;
    this.at = at;
  }

  /** Adds an ASCII value a character code at a time. */
  private ascii(value: string): void {
    const length = value.length;
    this.room(length);
    const record = this.record;
    let at = this.at;
    for (let i = 0; i < length; i++) record[at++] = value.charCodeAt(i);
    this.at = at;
  }

  private byte(c: number): void {
    this.room(1);
    this.record[this.at++] = c;
  }

  private room(count: number): void {
    if (this.text.fits(this.at + count)) return;
    this.text.room(this.at, count);
    this.record = this.text.bytes;
  }
}

/** The fresh-row writer for columns of these types, or undefined when no row of them can be hashed in Ferry. */
export function freshRowWriter(columnTypes: string[], traits: ServerTraits): FreshRowWriter | undefined {
  if (!traits.utf8 || !traits.untouched) return undefined;
  const columns: StoredText[] = [];
  for (const type of columnTypes) {
    const stored = storedText(type, traits);
    if (!stored) return undefined;
    columns.push(stored);
  }
  // Per column a small integer the writer switches on (one call site per column kind, not a closure call per value).
  const kinds = columnTypes.map((type) =>
    type === 'text' || type === 'character varying'
      ? AS_WRITTEN
      : VARCHAR_N.test(type)
      ? BOUNDED
      : NUMERIC_PS.test(type)
      ? SCALED
      : type === 'date'
      ? ISO_DATE
      : printsPlain(type)
      ? STORED_PLAIN
      : STORED,
  );
  const limits = columnTypes.map((type) => Number(VARCHAR_N.exec(type)?.[1] ?? NUMERIC_PS.exec(type)?.[2] ?? Infinity));
  return new FreshRowWriter(kinds, limits, columns, traits.nonAsciiPlain);
}

/** The stored-row hasher for columns of these types (a `FreshRowWriter` whose COPY data is thrown away), or undefined as `freshRowWriter`. */
export function storedRowHash(columnTypes: string[], traits: ServerTraits): StoredRowHash | undefined {
  const writer = freshRowWriter(columnTypes, traits);
  return writer && ((values) => writer.write(values, writer.copyData(256)));
}
