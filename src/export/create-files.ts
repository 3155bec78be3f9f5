import type pg from 'pg';
import type { DefaultedExportSettings } from '../api/defaults.js';
import { to as copyTo } from 'pg-copy-streams';
import { ConfigError } from '../util/errors.js';
import { literal } from '../util/sql.js';
import type { ArchivedFile, ArchiveOptions } from './archive.js';
import { COMPRESSION_EXTENSIONS } from './compress.js';
import { csvLine, DEFAULT_CSV, type CsvOptions } from './csv.js';
import { CsvRecordScanner } from './csv-records.js';
import type { EncryptionKeys } from './encrypt.js';
import { DEFAULT_FILE_NAME_TEMPLATE, expandFileName, withExtensions } from './file-name.js';
import { FileWriter } from './file-writer.js';
import type { ExportQuery } from './source-query.js';

export interface CreateContext {
  source: pg.ClientBase;
  /** State DB client inside the run's open transaction. */
  state: pg.ClientBase;
  settings: DefaultedExportSettings;
  encryption?: EncryptionKeys;
  archive: ArchiveOptions;
  flow: string;
  flowName: string;
  runId: string;
  startedAt: Date;
  timeZone: string;
}

export interface CreatedEntity {
  entity: string;
  rows: number;
  files: ArchivedFile[];
  /** Cursor and key of the last row written (Changes). */
  last?: (string | null)[];
}

export function fileNameFor(ctx: CreateContext, entity: string, part: number): { name: string; entryName: string } {
  const { settings } = ctx;
  const base = expandFileName(settings.fileNameTemplate ?? DEFAULT_FILE_NAME_TEMPLATE, {
    flow: ctx.flowName,
    entity,
    at: ctx.startedAt,
    timeZone: ctx.timeZone,
    seq: part,
  });
  const entryName = withExtensions(base, settings.format === 'Csv' ? '.csv' : '.jsonl');
  const name = withExtensions(entryName, COMPRESSION_EXTENSIONS[settings.compression] + (settings.encryption ? '.pgp' : ''));
  return { name, entryName };
}

/** COPY options that make Postgres write the file's records itself: CSV as configured, or one JSON text per line. */
function copyOptions(settings: DefaultedExportSettings, csv: CsvOptions): string {
  if (settings.format === 'JsonLines') {
    // JSON text never holds a raw control character, so with these as quote and delimiter nothing is ever quoted.
    return `FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'`;
  }
  for (const [name, value] of [['delimiter', csv.delimiter], ['quote', csv.quote]] as const) {
    if (Buffer.byteLength(value) !== 1 || value === '\r' || value === '\n') {
      throw new ConfigError(`spec.target.export.csv.${name}: must be a single one-byte character other than CR or LF, got ${JSON.stringify(value)}`);
    }
  }
  if (csv.delimiter === csv.quote) throw new ConfigError('spec.target.export.csv: delimiter and quote must differ');
  return `FORMAT csv, DELIMITER ${literal(csv.delimiter)}, QUOTE ${literal(csv.quote)}`;
}

/**
 * Streams one query into one or more archived files (split by rows or uncompressed bytes). Postgres
 * produces the CSV or JSON Lines records; Node only finds record ends (for CRLF and splitting) and
 * pushes the bytes through compression, encryption and the archive. The source client must be in a
 * REPEATABLE READ transaction so `lastSql` sees the same rows as the COPY.
 */
export async function createEntityFiles(ctx: CreateContext, query: ExportQuery): Promise<CreatedEntity> {
  const { settings } = ctx;
  const csv: CsvOptions = {
    header: settings.csv?.header ?? DEFAULT_CSV.header,
    delimiter: settings.csv?.delimiter ?? DEFAULT_CSV.delimiter,
    quote: settings.csv?.quote ?? DEFAULT_CSV.quote,
  };
  const isCsv = settings.format === 'Csv';
  const header = isCsv && csv.header ? csvLine(query.columns, csv) : '';
  const scanner = new CsvRecordScanner(isCsv ? csv.quote.charCodeAt(0) : 0x01, isCsv);
  const maxRows = settings.split?.maxRows ?? Infinity;
  const maxBytes = settings.split?.maxBytes ?? Infinity;
  const splitting = Number.isFinite(maxRows) || Number.isFinite(maxBytes);
  const files: ArchivedFile[] = [];
  let current: FileWriter | undefined;
  let rows = 0;
  const open = async () => {
    const writer = await FileWriter.open(
      ctx.state,
      { runId: ctx.runId, flow: ctx.flow, entity: query.entity, part: files.length + 1, ...fileNameFor(ctx, query.entity, files.length + 1) },
      { compression: settings.compression, ...(ctx.encryption ? { encryption: ctx.encryption } : {}), archive: ctx.archive },
    );
    if (header) await writer.write(header, 0);
    return writer;
  };
  try {
    const stream = ctx.source.query(copyTo(`COPY (${query.sql}) TO STDOUT WITH (${copyOptions(settings, csv)})`));
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const { data, ends } = scanner.scan(chunk);
      rows += ends.length;
      if (!splitting) {
        current ??= await open();
        await current.write(data, ends.length);
        continue;
      }
      // Cut after the record that reaches a limit; a record is never split across files.
      let from = 0;
      let records = 0;
      for (const end of ends) {
        current ??= await open();
        records++;
        if (current.rows + records >= maxRows || current.plainBytes + (end - from) >= maxBytes) {
          await current.write(data.subarray(from, end), records);
          files.push(await current.finish());
          current = undefined;
          from = end;
          records = 0;
        }
      }
      if (from < data.length) {
        current ??= await open();
        await current.write(data.subarray(from), records);
      }
    }
    // An export without rows still produces one (header-only) file, so the receiver sees the run happened.
    if (!current && files.length === 0) current = await open();
    if (current) files.push(await current.finish());
  } catch (error) {
    await current?.abort(error as Error);
    throw error;
  }
  let last: (string | null)[] | undefined;
  if (query.lastSql && rows > 0) {
    const result = await ctx.source.query({ text: query.lastSql, rowMode: 'array' });
    last = result.rows[0] as (string | null)[] | undefined;
  }
  return { entity: query.entity, rows, files, ...(last ? { last } : {}) };
}
