/**
 * The seam between the export pipeline and the database it exports from. The pipeline decides what
 * to read (an entity's rows, its change events, or a free query) and turns what comes back into
 * files; each connector (src/connectors/<kind>/export-source.ts) compiles the read for its system.
 *
 * A source hands back either neutral rows, which the pipeline formats (`rows`), or records its
 * system already formatted in the file's format (`records`, e.g. PostgreSQL's COPY), when that is
 * faster. Both give byte-identical files for the same data.
 */
import type { Entity } from '../api/entity.js';
import type { ExportFormat } from '../api/export-settings.js';
import type { Row, Watermark } from '../engine/connector.js';
import type { CsvOptions } from './csv.js';

/** What one file set reads. `namespace` is the source's schema or database ('' = the URL's). */
export type ExportRead =
  | { kind: 'entity'; entity: Entity; namespace: string; mode: 'Changes' | 'Snapshot'; after: Watermark | undefined }
  | { kind: 'events'; entity: Entity; namespace: string; after: Watermark | undefined }
  | { kind: 'query'; query: string; changes?: QueryChanges; after?: Watermark };

/** Changes mode of a free query: its columns that identify a row and the cursor that orders its changes. */
export interface QueryChanges {
  keys: string[];
  cursor: string;
}

/**
 * How a neutral value is written. Cells are text: integers, decimals and floats as digits;
 * booleans `t`/`f`; `json` as JSON text; `binary` as `\x` + hex; `date` `YYYY-MM-DD`; `time`
 * `HH:MM:SS[.ffffff]`; `timestamp` (no zone) and `timestamptz` (UTC) as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
 */
export type ExportValueKind = 'text' | 'number' | 'boolean' | 'json' | 'binary' | 'date' | 'time' | 'timestamp' | 'timestamptz';

export interface ExportColumn {
  name: string;
  kind: ExportValueKind;
}

export type ExportData =
  /** Neutral rows in `columns` order; the pipeline formats them. */
  | { kind: 'rows'; columns: ExportColumn[]; rows: AsyncIterable<Row> }
  /**
   * Records formatted by the system: CSV with the configured delimiter and quote and LF record ends,
   * or one JSON object text per LF-ended line.
   */
  | { kind: 'records'; columns: string[]; records: AsyncIterable<Buffer> };

export interface ExportFileFormat {
  format: ExportFormat;
  csv: CsvOptions;
}

export interface ExportSource {
  /**
   * Reads in one read-only consistent snapshot and hands the data to `write` inside it. Returns what
   * `write` returned and the watermark the next run resumes after (undefined: keep the old one).
   * Unknown tables or columns, and modes the system cannot serve, are ConfigErrors naming them.
   */
  read<T>(request: ExportRead, format: ExportFileFormat, write: (data: ExportData) => Promise<T>): Promise<{ written: T; next?: Watermark }>;
  close(): Promise<void>;
}

/** `schema.table` or `table` (in the default namespace). */
export function splitTable(table: string, defaultNamespace: string): { schema: string; table: string } {
  const dot = table.indexOf('.');
  return dot === -1 ? { schema: defaultNamespace, table } : { schema: table.slice(0, dot), table: table.slice(dot + 1) };
}
