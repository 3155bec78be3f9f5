import { hash } from 'node:crypto';
import type { FileColumnType, FileSource } from '../../api/files.js';
import { applyValueMap, withProblem, type ConditionClause, type Row, type TransformName } from '../../engine/connector.js';
import { conditionHolds } from '../../engine/conditions.js';
import type { EntityPlan } from '../../engine/plan.js';
import { Md5Text } from '../../util/md5.js';
import { canonicalValue, ValueError, type ValueFormats } from './values.js';

export const END_OF_FILE = 999_999_999_999;
const ZERO = 48;
/** Character codes of the last position made: the file's 12 digits and ':', then the line's 12 digits. */
const positionCodes: number[] = new Array<number>(25).fill(ZERO);
let lastFile = -1;

/** Where a row stands: file order, then line. Fixed width, so positions compare as text. */
export function position(fileId: number, line: number): string {
  // Once per row of a file: one flat string from character codes (a concatenation of the file's
  // part and the padded line made three strings, and a fourth when the engine read it).
  if (fileId !== lastFile) {
    lastFile = fileId;
    const prefix = `${String(fileId).padStart(12, '0')}:`;
    for (let i = 0; i < 13; i++) positionCodes[i] = prefix.charCodeAt(i);
  }
  let rest = line;
  for (let i = 24; i > 12; i--) {
    const digit = rest % 10;
    positionCodes[i] = ZERO + digit;
    rest = (rest - digit) / 10;
  }
  return String.fromCharCode.apply(null, positionCodes);
}

export function parsePosition(cursor: string): { fileId: number; line: number } {
  const [file, line] = cursor.split(':');
  return { fileId: Number(file), line: Number(line ?? 0) };
}

function transformed(value: string | null, transform: TransformName): string | null {
  if (value === null) return null;
  if (transform === 'Trim') return value.trim();
  if (transform === 'Lower') return value.toLowerCase();
  if (transform === 'Upper') return value.toUpperCase();
  return value;
}

/** Room for the JSON text of a row's values written as bytes (a longer one is stringified). */
const JSON_ROOM = 4096;
/** The JSON text of a row's values, hashed where it is written (Md5Text: no native call or view per row). */
const jsonText = new Md5Text(2 * JSON_ROOM); // room for the padding after the longest text
const NULL = [110, 117, 108, 108];

/**
 * `JSON.stringify(values)` as UTF-8 bytes in `jsonText.bytes`, when every value is null or text JSON
 * writes as it is (no control character, quote or backslash) outside the surrogates (emoji and
 * other characters past U+FFFF); its length, or -1 otherwise.
 */
function plainJson(values: readonly (string | null)[]): number {
  const bytes = jsonText.bytes;
  let n = 0;
  bytes[n++] = 91; // [
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) bytes[n++] = 44; // ,
    if (value === null) {
      if (n + 8 > JSON_ROOM) return -1;
      for (const b of NULL) bytes[n++] = b;
      continue;
    }
    if (typeof value !== 'string' || n + 3 * value.length + 8 > JSON_ROOM) return -1;
    bytes[n++] = 34; // "
    for (let k = 0; k < value.length; k++) {
      const c = value.charCodeAt(k);
      if (c < 128) {
        if (c < 32 || c === 34 || c === 92) return -1;
        bytes[n++] = c;
      } else if (c < 0x800) {
        bytes[n++] = 0xc0 | (c >> 6);
        bytes[n++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        // Half of a pair, or a lone one JSON escapes: stringified.
        return -1;
      } else {
        bytes[n++] = 0xe0 | (c >> 12);
        bytes[n++] = 0x80 | ((c >> 6) & 63);
        bytes[n++] = 0x80 | (c & 63);
      }
    }
    bytes[n++] = 34;
  }
  bytes[n++] = 93; // ]
  return n;
}

/**
 * A side's hash of mapped values: opaque to the engine, only compared with earlier hashes of this
 * connector, so it stays `md5(JSON.stringify(values))` in hex. Plain values are hashed from their
 * UTF-8 bytes written into one buffer and hashed there (no JSON string per row, no conversion of it
 * to UTF-8, no native call).
 */
export function hashValues(values: readonly (string | null)[]): string {
  const n = plainJson(values);
  if (n < 0) return hash('md5', JSON.stringify(values));
  return jsonText.hex(n);
}

/** A record's values, by the index of each column in `RowBuilder.columns` (undefined: the file has no such column). */
export type FieldView = readonly (string | null | undefined)[];

/** A column a row reads: where its value stands in a `FieldView`, its declared type (none: the text as it is). */
interface ColumnRead {
  name: string;
  at: number;
  declared?: { type: FileColumnType; format?: string };
}

/** Turns the records of one entity's files into `SOURCE_LAYOUT` rows, typed and checked. */
export class RowBuilder {
  /** The columns the rows read, each once: a reader hands `row` their values in this order. */
  readonly columns: string[] = [];
  private readonly formats: ValueFormats;
  /** The columns of the key parts, of the mapped values (key fields then fields), of the conditions, of the match keys: looked up once, not per row. */
  private readonly keys: ColumnRead[];
  private readonly mapped: (ColumnRead & { transform: TransformName; valueMap: EntityPlan['fields'][number]['valueMap'] })[];
  private readonly conditions: (ColumnRead & { clause: ConditionClause })[];
  private readonly match: ColumnRead[];
  /** The mapped values of the row being built (its hash covers them). */
  private readonly values: (string | null)[];

  /** `extra`: columns the caller reads too (their place in `columns`: `indexOf`). */
  constructor(
    private readonly plan: EntityPlan,
    file: FileSource,
    extra: string[] = [],
  ) {
    const types = new Map((file.columns ?? []).map((c) => [c.name, { type: c.type ?? 'Text', ...(c.format ? { format: c.format } : {}) }]));
    const column = (name: string): ColumnRead => {
      const declared = types.get(name);
      const at = this.indexOf(name);
      return declared ? { name, at, declared } : { name, at };
    };
    this.keys = plan.source.keys.map(column);
    this.mapped = [...plan.keyFields, ...plan.fields].map((f) => ({ ...column(f.source), transform: f.transform, valueMap: f.valueMap }));
    this.conditions = plan.source.conditions.map((clause) => ({ ...column(clause.field), clause }));
    this.match = plan.match.map((m) => column(m.source));
    for (const name of extra) this.indexOf(name);
    this.values = this.mapped.map(() => null);
    this.formats = {
      decimalSeparator: file.csv?.decimalSeparator ?? '.',
      ...(file.dateFormat ? { dateFormat: file.dateFormat } : {}),
      ...(file.timestampFormat ? { timestampFormat: file.timestampFormat } : {}),
    };
  }

  /** The place of a column in `columns` (added when new). */
  indexOf(name: string): number {
    const at = this.columns.indexOf(name);
    return at >= 0 ? at : this.columns.push(name) - 1;
  }

  private width(withValues: boolean): number {
    return this.keys.length + 3 + (withValues ? this.mapped.length + this.match.length : 0);
  }

  /** A column's value as its declared type says (throws `ValueError`). */
  private value(values: FieldView, column: ColumnRead): string | null {
    const raw = values[column.at] ?? null;
    const { declared } = column;
    return declared ? canonicalValue(raw, declared.type, this.formats, declared.format) : raw;
  }

  /**
   * A row that cannot be synced, named with file and line (the reason is prefixed with them here,
   * not for every row); its key parts as far as `values` gives them.
   */
  rejected(line: number, cursor: string, fileName: string, reason: string, withValues: boolean, column = '', values?: FieldView): Row {
    const row: Row = this.keys.map((k) => (values ? (values[k.at] ?? '') : ''));
    row.push(cursor, '', 'f');
    const width = this.width(withValues);
    while (row.length < width) row.push(null);
    return withProblem(row, { column, reason: `${fileName} line ${line}: ${reason}` });
  }

  /**
   * A row, or a row marked with the problem that keeps it from syncing (named with file and line).
   * Not `hashed`, its hash is '' (a key census needs only the key and whether there is a problem).
   */
  row(values: FieldView, line: number, cursor: string, fileName: string, withValues: boolean, hashed = true): Row {
    const { keys, mapped } = this;
    // The column being read: a value that does not parse is rejected in its name.
    let reading: ColumnRead | undefined;
    try {
      // Built in place at its final size, one row per record of a large file: no intermediate arrays.
      const row: Row = new Array<string | null>(this.width(withValues));
      let at = 0;
      // Indexed loops: no iterator per row where the optimiser does not remove it.
      for (let i = 0; i < keys.length; i++) row[at++] = this.value(values, (reading = keys[i]!));
      for (let i = 0; i < keys.length; i++) {
        if (row[i] === null || row[i] === '') return this.rejected(line, cursor, fileName, `missing key ${keys[i]!.name}`, withValues, keys[i]!.name, values);
      }
      // The values are hashed from one array kept for all rows (synchronous here: no other row meanwhile).
      const mappedValues = this.values;
      for (let i = 0; i < mapped.length; i++) {
        const field = (reading = mapped[i]!);
        mappedValues[i] = applyValueMap(transformed(this.value(values, field), field.transform), field.valueMap);
      }
      let inScope = true;
      const { conditions, match } = this;
      for (let i = 0; i < conditions.length; i++) if (!(inScope = conditionHolds(conditions[i]!.clause, this.value(values, (reading = conditions[i]!))))) break;
      row[at++] = cursor;
      row[at++] = hashed ? hashValues(mappedValues) : '';
      row[at++] = inScope ? 't' : 'f';
      if (!withValues) return row;
      for (let i = 0; i < mappedValues.length; i++) row[at++] = mappedValues[i]!;
      for (let i = 0; i < match.length; i++) row[at++] = this.value(values, (reading = match[i]!));
      return row;
    } catch (error) {
      if (error instanceof ValueError && reading) return this.rejected(line, cursor, fileName, error.message, withValues, reading.name, values);
      throw error;
    }
  }
}
