import { hash } from 'node:crypto';
import type { FileColumnType, FileSource } from '../../api/files.js';
import { applyValueMap, withProblem, type ConditionClause, type Row, type TransformName } from '../../engine/connector.js';
import { conditionHolds } from '../../engine/conditions.js';
import type { EntityPlan } from '../../engine/plan.js';
import type { FieldValues, FileRecord } from './parse.js';
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

/** A side's hash of mapped values: opaque to the engine, only compared with earlier hashes of this connector. */
export function hashValues(values: (string | null)[]): string {
  // The one-shot hash: no Hash object per row (the same digest as createHash).
  return hash('md5', JSON.stringify(values), 'hex');
}

/** A value of a named column that does not parse (the engine names the column in the rejection). */
class ColumnValueError extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

/** A column a row reads, with its declared type (none: the text as it is). */
interface ColumnRead {
  name: string;
  declared?: { type: FileColumnType; format?: string };
}

/** Turns the records of one entity's files into `SOURCE_LAYOUT` rows, typed and checked. */
export class RowBuilder {
  private readonly formats: ValueFormats;
  /** The columns of the key parts, of the mapped values (key fields then fields), of the conditions, of the match keys: looked up once, not per row. */
  private readonly keys: ColumnRead[];
  private readonly mapped: (ColumnRead & { transform: TransformName; valueMap: EntityPlan['fields'][number]['valueMap'] })[];
  private readonly conditions: (ColumnRead & { clause: ConditionClause })[];
  private readonly match: ColumnRead[];
  /** The mapped values of the row being built (its hash covers them). */
  private readonly values: (string | null)[];

  constructor(
    private readonly plan: EntityPlan,
    file: FileSource,
  ) {
    const types = new Map((file.columns ?? []).map((c) => [c.name, { type: c.type ?? 'Text', ...(c.format ? { format: c.format } : {}) }]));
    const column = (name: string): ColumnRead => {
      const declared = types.get(name);
      return declared ? { name, declared } : { name };
    };
    this.keys = plan.source.keys.map(column);
    this.mapped = [...plan.keyFields, ...plan.fields].map((f) => ({ ...column(f.source), transform: f.transform, valueMap: f.valueMap }));
    this.conditions = plan.source.conditions.map((clause) => ({ ...column(clause.field), clause }));
    this.match = plan.match.map((m) => column(m.source));
    this.values = this.mapped.map(() => null);
    this.formats = {
      decimalSeparator: file.csv?.decimalSeparator ?? '.',
      ...(file.dateFormat ? { dateFormat: file.dateFormat } : {}),
      ...(file.timestampFormat ? { timestampFormat: file.timestampFormat } : {}),
    };
  }

  private value(fields: FieldValues, column: ColumnRead): string | null {
    const raw = fields.get(column.name) ?? null;
    const { declared } = column;
    if (!declared) return raw;
    try {
      return canonicalValue(raw, declared.type, this.formats, declared.format);
    } catch (error) {
      if (error instanceof ValueError) throw new ColumnValueError(column.name, error.message);
      throw error;
    }
  }

  /** The key parts of a record as far as they can be read (for naming a rejected row). */
  private keyOf(record: FileRecord): string[] {
    if ('problem' in record) return this.plan.source.keys.map(() => '');
    return this.plan.source.keys.map((k) => record.fields.get(k) ?? '');
  }

  /** A rejected row; the reason is prefixed with the file and line (built only here, not for every row). */
  private problem(record: FileRecord, cursor: string, width: number, column: string, fileName: string, reason: string): Row {
    const row: Row = [...this.keyOf(record), cursor, '', 'f'];
    while (row.length < width) row.push(null);
    return withProblem(row, { column, reason: `${fileName} line ${record.line}: ${reason}` });
  }

  /** A row, or a row marked with the problem that keeps it from syncing (named with file and line). */
  row(record: FileRecord, cursor: string, fileName: string, withValues: boolean): Row {
    const { keys, mapped } = this;
    const width = keys.length + 3 + (withValues ? mapped.length + this.match.length : 0);
    if ('problem' in record) return this.problem(record, cursor, width, '', fileName, record.problem);
    const fields = record.fields;
    try {
      // Built in place at its final size, one row per record of a large file: no intermediate arrays.
      const row: Row = new Array<string | null>(width);
      let at = 0;
      for (const key of keys) row[at++] = this.value(fields, key);
      for (let i = 0; i < keys.length; i++) {
        if (row[i] === null || row[i] === '') return this.problem(record, cursor, width, keys[i]!.name, fileName, `missing key ${keys[i]!.name}`);
      }
      // The values are hashed from one array kept for all rows (synchronous here: no other row meanwhile).
      const values = this.values;
      for (let i = 0; i < mapped.length; i++) values[i] = applyValueMap(transformed(this.value(fields, mapped[i]!), mapped[i]!.transform), mapped[i]!.valueMap);
      let inScope = true;
      for (const c of this.conditions) if (!(inScope = conditionHolds(c.clause, this.value(fields, c)))) break;
      row[at++] = cursor;
      row[at++] = hashValues(values);
      row[at++] = inScope ? 't' : 'f';
      if (!withValues) return row;
      for (const value of values) row[at++] = value;
      for (const m of this.match) row[at++] = this.value(fields, m);
      return row;
    } catch (error) {
      if (error instanceof ColumnValueError) return this.problem(record, cursor, width, error.column, fileName, error.message);
      throw error;
    }
  }
}
