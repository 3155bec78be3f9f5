import type { ExportFormat } from '../api/export-settings.js';
import { csvLine, type CsvOptions } from './csv.js';

/** Turns rows into file text. For JSON Lines the row is one pre-built JSON object text (built by Postgres). */
export interface Serialiser {
  readonly extension: string;
  header(): string;
  row(values: readonly (string | null)[]): string;
}

export function createSerialiser(format: ExportFormat, columns: readonly string[], csv: CsvOptions): Serialiser {
  if (format === 'JsonLines') {
    return { extension: 'jsonl', header: () => '', row: (values) => `${values[0] ?? 'null'}\n` };
  }
  return {
    extension: 'csv',
    header: () => (csv.header ? csvLine(columns, csv) : ''),
    row: (values) => csvLine(values, csv),
  };
}
