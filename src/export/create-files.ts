import type pg from 'pg';
import type { DefaultedExportSettings } from '../api/defaults.js';
import type { ArchivedFile, ArchiveOptions } from './archive.js';
import { COMPRESSION_EXTENSIONS } from './compress.js';
import { csvLine, DEFAULT_CSV, type CsvOptions } from './csv.js';
import { CsvRecordScanner } from './csv-records.js';
import type { EncryptionKeys } from './encrypt.js';
import { DEFAULT_FILE_NAME_TEMPLATE, expandFileName, withExtensions } from './file-name.js';
import { FileWriter } from './file-writer.js';
import { formatRows, type RecordChunk } from './row-records.js';
import type { ExportData, ExportFileFormat } from './source.js';

export interface CreateContext {
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

/** The file format of an export with the CSV defaults applied. */
export function fileFormatOf(settings: DefaultedExportSettings): ExportFileFormat {
  const csv: CsvOptions = {
    header: settings.csv?.header ?? DEFAULT_CSV.header,
    delimiter: settings.csv?.delimiter ?? DEFAULT_CSV.delimiter,
    quote: settings.csv?.quote ?? DEFAULT_CSV.quote,
  };
  return { format: settings.format, csv };
}

/** Records a source formatted itself: find the record ends (and, for CSV, make them CRLF). */
async function* scanRecords(records: AsyncIterable<Buffer>, file: ExportFileFormat): AsyncGenerator<RecordChunk> {
  const isCsv = file.format === 'Csv';
  const scanner = new CsvRecordScanner(isCsv ? file.csv.quote.charCodeAt(0) : 0x01, isCsv);
  for await (const chunk of records) yield scanner.scan(chunk);
}

/**
 * Streams one read into one or more archived files (split by rows or uncompressed bytes). Records
 * come formatted by the source or are formatted here from neutral rows; either way they go through
 * compression, encryption and the archive in bounded chunks.
 */
export async function createEntityFiles(ctx: CreateContext, entity: string, data: ExportData): Promise<CreatedEntity> {
  const { settings } = ctx;
  const file = fileFormatOf(settings);
  const columns = data.kind === 'rows' ? data.columns.map((c) => c.name) : data.columns;
  const header = file.format === 'Csv' && file.csv.header ? csvLine(columns, file.csv) : '';
  const chunks = data.kind === 'rows' ? formatRows(data.columns, data.rows, file) : scanRecords(data.records, file);
  const maxRows = settings.split?.maxRows ?? Infinity;
  const maxBytes = settings.split?.maxBytes ?? Infinity;
  const splitting = Number.isFinite(maxRows) || Number.isFinite(maxBytes);
  const files: ArchivedFile[] = [];
  let current: FileWriter | undefined;
  let rows = 0;
  const open = async () => {
    const writer = await FileWriter.open(
      ctx.state,
      { runId: ctx.runId, flow: ctx.flow, entity, part: files.length + 1, ...fileNameFor(ctx, entity, files.length + 1) },
      { compression: settings.compression, ...(ctx.encryption ? { encryption: ctx.encryption } : {}), archive: ctx.archive },
    );
    if (header) await writer.write(header, 0);
    return writer;
  };
  try {
    for await (const { data, ends } of chunks) {
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
  return { entity, rows, files };
}
