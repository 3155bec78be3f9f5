import { hash } from 'node:crypto';
import type { FileColumnType, FileSource } from '../../api/files.js';
import { applyValueMap, withProblem, type ConditionClause, type Row, type TransformName } from '../../engine/connector.js';
import { conditionHolds } from '../../engine/conditions.js';
import type { EntityPlan } from '../../engine/plan.js';
import type { FieldValues, FileRecord } from './parse.js';
import { canonicalValue, ValueError, type ValueFormats } from './values.js';

/** Where a row stands: file order, then line. Fixed width, so positions compare as text. */
export function position(fileId: number, line: number): string {
  return `${String(fileId).padStart(12, '0')}:${String(line).padStart(12, '0')}`;
}
export const END_OF_FILE = 999_999_999_999;

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

/** Turns the records of one entity's files into `SOURCE_LAYOUT` rows, typed and checked. */
export class RowBuilder {
  private readonly types: Map<string, { type: FileColumnType; format?: string }>;
  private readonly formats: ValueFormats;
  /** The key fields then the fields, the values a row carries and its hash covers. */
  private readonly mapped: EntityPlan['fields'];

  constructor(
    private readonly plan: EntityPlan,
    file: FileSource,
  ) {
    this.types = new Map((file.columns ?? []).map((c) => [c.name, { type: c.type ?? 'Text', ...(c.format ? { format: c.format } : {}) }]));
    this.mapped = [...plan.keyFields, ...plan.fields];
    this.formats = {
      decimalSeparator: file.csv?.decimalSeparator ?? '.',
      ...(file.dateFormat ? { dateFormat: file.dateFormat } : {}),
      ...(file.timestampFormat ? { timestampFormat: file.timestampFormat } : {}),
    };
  }

  private value(fields: FieldValues, column: string): string | null {
    const raw = fields.get(column) ?? null;
    const declared = this.types.get(column);
    if (!declared) return raw;
    try {
      return canonicalValue(raw, declared.type, this.formats, declared.format);
    } catch (error) {
      if (error instanceof ValueError) throw new ColumnValueError(column, error.message);
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
    const plan = this.plan;
    const width = plan.source.keys.length + 3 + (withValues ? this.mapped.length + plan.match.length : 0);
    if ('problem' in record) return this.problem(record, cursor, width, '', fileName, record.problem);
    const fields = record.fields;
    try {
      // Built in place, one row per record of a large file: no intermediate arrays.
      const row: Row = [];
      for (const key of plan.source.keys) row.push(this.value(fields, key));
      const missing = plan.source.keys.findIndex((_k, i) => row[i] === null || row[i] === '');
      if (missing >= 0) return this.problem(record, cursor, width, plan.source.keys[missing]!, fileName, `missing key ${plan.source.keys[missing]}`);
      const values: (string | null)[] = [];
      for (const f of this.mapped) values.push(applyValueMap(transformed(this.value(fields, f.source), f.transform), f.valueMap));
      let inScope = true;
      for (const c of plan.source.conditions) if (!(inScope = conditionHolds(c, this.value(fields, c.field)))) break;
      row.push(cursor, hashValues(values), inScope ? 't' : 'f');
      if (!withValues) return row;
      for (const value of values) row.push(value);
      for (const m of plan.match) row.push(this.value(fields, m.source));
      return row;
    } catch (error) {
      if (error instanceof ColumnValueError) return this.problem(record, cursor, width, error.column, fileName, error.message);
      throw error;
    }
  }
}
