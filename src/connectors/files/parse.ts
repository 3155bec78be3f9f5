import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse, type Options } from 'csv-parse';
import iconv from 'iconv-lite';
import type { FileEncoding, FileFormat, FileSource } from '../../api/files.js';
import { CleanCsvReader, type CsvRow } from './csv-clean.js';
import { quotingLooksClean } from './csv-quotes.js';

export interface CsvDialect {
  delimiter: string;
  quote: string;
  header: boolean;
  encoding: FileEncoding;
  emptyIsNull: boolean;
}

/** The CSV dialect an entity's file block declares, with its defaults. */
export function dialectOf(file: FileSource): CsvDialect {
  return {
    delimiter: file.csv?.delimiter ?? ',',
    quote: file.csv?.quote ?? '"',
    header: file.csv?.header ?? true,
    encoding: file.csv?.encoding ?? 'UTF-8',
    emptyIsNull: file.csv?.emptyIsNull ?? true,
  };
}

/** A record's values by column name. */
export interface FieldValues {
  get(column: string): string | null | undefined;
}

/** One record of a file: its line (where it ends, 1-based) and its fields by column name, or why it cannot be read. */
export type FileRecord = { line: number; fields: FieldValues } | { line: number; problem: string };

/**
 * A CSV record: its line, and its values found through the file's one map of column positions (no
 * map per record). It is its own `fields`: one object per record of a large file, not two.
 */
class CsvRecord implements FieldValues {
  constructor(
    readonly line: number,
    private readonly positions: Map<string, number>,
    private readonly values: (string | null)[],
  ) {}

  get fields(): FieldValues {
    return this;
  }

  get(column: string): string | null | undefined {
    const at = this.positions.get(column);
    return at === undefined ? undefined : this.values[at];
  }
}

const ICONV_NAMES: Record<FileEncoding, string> = { 'UTF-8': 'utf8', 'UTF-8-BOM': 'utf8', 'Windows-1252': 'win1252', 'ISO-8859-1': 'latin1' };

/** The file's bytes as text; a UTF-8 byte order mark is dropped (iconv-lite strips it by default). */
function textOf(path: string, encoding: FileEncoding): NodeJS.ReadableStream {
  return createReadStream(path, { highWaterMark: 1 << 18 }).pipe(iconv.decodeStream(ICONV_NAMES[encoding]));
}

/**
 * The column names a file gives: a CSV file's header row, or the names of a JSON Lines file's first
 * object; undefined when the file has none.
 */
export async function fileColumnNames(path: string, format: FileFormat, dialect: CsvDialect): Promise<string[] | undefined> {
  if (format === 'Csv') {
    // The header only: csv-parse stops after the first record instead of parsing the whole first piece.
    for await (const rows of parsedCsvRows(path, dialect, 1)) return rows[0]!.values.map((v) => v ?? '');
    return undefined;
  }
  for await (const record of jsonLinesRecords(path, dialect.encoding)) if ('fields' in record) return [...record.fields.keys()];
  return undefined;
}

/** How csv-parse reads a dialect: a quote is doubled inside a quoted field, an unquoted empty field is null when asked. */
export function csvOptions(dialect: CsvDialect): Options {
  return {
    delimiter: dialect.delimiter,
    quote: dialect.quote,
    escape: dialect.quote,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    cast: (value, context) => (dialect.emptyIsNull && value === '' && !context.quoting ? (null as unknown as string) : value),
  };
}

/** csv-parse's records (with `records`, only that many), for text whose quoting the byte scan could not vouch for. */
async function* parsedCsvRows(path: string, dialect: CsvDialect, records?: number): AsyncGenerator<CsvRow[]> {
  const parser = textOf(path, dialect.encoding).pipe(parse({ ...csvOptions(dialect), ...(records ? { to: records } : {}) }));
  for await (const { record, info } of parser as AsyncIterable<{ record: (string | null)[]; info: { lines: number } }>) {
    yield [{ line: info.lines, values: record }];
  }
}

/** The same records from cleanly quoted text, a piece of the file at a time. */
async function* cleanCsvRows(path: string, dialect: CsvDialect): AsyncGenerator<CsvRow[]> {
  const reader = new CleanCsvReader(dialect.delimiter, dialect.quote, dialect.emptyIsNull);
  for await (const text of textOf(path, dialect.encoding) as AsyncIterable<string>) {
    const rows: CsvRow[] = [];
    reader.push(text, rows);
    if (rows.length > 0) yield rows;
  }
  const last: CsvRow[] = [];
  reader.end(last);
  if (last.length > 0) yield last;
}

/** A CSV file's records in batches: `clean` when `checkSyntax` found its quoting clean. */
function csvRows(path: string, dialect: CsvDialect, clean: boolean): AsyncGenerator<CsvRow[]> {
  return clean ? cleanCsvRows(path, dialect) : parsedCsvRows(path, dialect);
}

/** A CSV file's records; without `columns`, the header row names them. */
async function* csvRecords(path: string, dialect: CsvDialect, columns: string[] | undefined, clean: boolean): AsyncGenerator<FileRecord[]> {
  const positionsOf = (names: string[]) => {
    const positions = new Map<string, number>();
    // A column named twice gives its last value.
    names.forEach((name, i) => positions.set(name, i));
    return positions;
  };
  let names = dialect.header ? undefined : columns;
  let positions = names && positionsOf(names);
  for await (const rows of csvRows(path, dialect, clean)) {
    const records: FileRecord[] = [];
    for (const { line, values } of rows) {
      if (!names || !positions) {
        names = values.map((v) => v ?? '');
        positions = positionsOf(names);
        continue;
      }
      if (values.length !== names.length) records.push({ line, problem: `${values.length} fields, expected ${names.length}` });
      else records.push(new CsvRecord(line, positions, values));
    }
    if (records.length > 0) yield records;
  }
}

function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

async function* jsonLinesRecords(path: string, encoding: FileEncoding): AsyncGenerator<{ line: number; fields: Map<string, string | null> } | { line: number; problem: string }> {
  let line = 0;
  for await (const text of createInterface({ input: textOf(path, encoding), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, problem: `not JSON (${(error as Error).message})` };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { line, problem: 'not a JSON object' };
      continue;
    }
    yield { line, fields: new Map(Object.entries(value).map(([k, v]) => [k, jsonText(v)])) };
  }
}

/**
 * Streams the records of a plain (decrypted, decompressed) file, a batch at a time (one async step
 * per piece of the file, not per record). `clean`: `checkSyntax` found the file's quoting clean.
 */
export async function* fileRecordBatches(path: string, format: FileFormat, dialect: CsvDialect, columns: string[] | undefined, clean: boolean): AsyncGenerator<FileRecord[]> {
  if (format === 'Csv') yield* csvRecords(path, dialect, columns, clean);
  else for await (const record of jsonLinesRecords(path, dialect.encoding)) yield [record];
}

/** Streams the records of a plain file one by one. */
export async function* fileRecords(path: string, format: FileFormat, dialect: CsvDialect, columns: string[] | undefined, clean: boolean): AsyncGenerator<FileRecord> {
  for await (const batch of fileRecordBatches(path, format, dialect, columns, clean)) yield* batch;
}

/**
 * Reads a whole plain file once and says what stops it from being parsed to its end (an unclosed
 * quote, a stray quote): such a file is invalid as a whole, and this runs before any of its rows is
 * read for the engine. Rows that parse but do not fit (field count, types) are rejected one by one
 * later. `clean`: the quoting is plain, so its records can be read with `CleanCsvReader`. `scanned`:
 * the verdict of a `QuotingScan` that already saw the whole file (while it was decoded).
 */
export async function checkSyntax(path: string, format: FileFormat, dialect: CsvDialect, scanned?: 'clean' | 'unsure'): Promise<{ clean: boolean; problem?: string }> {
  if (format !== 'Csv') return { clean: false };
  // Most files quote plainly; a byte scan tells so at a fraction of a parse's cost.
  const quoting = scanned ?? (await quotingLooksClean(createReadStream(path, { highWaterMark: 1 << 20 }), dialect.delimiter, dialect.quote));
  if (quoting === 'clean') return { clean: true };
  try {
    for await (const _rows of csvRows(path, dialect, false));
    return { clean: false };
  } catch (error) {
    return { clean: false, problem: `not valid CSV (${(error as Error).message})` };
  }
}
