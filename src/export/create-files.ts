import type pg from 'pg';
import type { DefaultedExportSettings } from '../api/defaults.js';
import { copyOutRows } from '../engine/postgres/copy-out.js';
import type { ArchivedFile, ArchiveOptions } from './archive.js';
import { COMPRESSION_EXTENSIONS } from './compress.js';
import { DEFAULT_CSV } from './csv.js';
import type { EncryptionKeys } from './encrypt.js';
import { DEFAULT_FILE_NAME_TEMPLATE, expandFileName, withExtensions } from './file-name.js';
import { FileWriter } from './file-writer.js';
import { createSerialiser } from './serialise.js';
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
  /** Bookkeeping columns of the last row written (cursor and key, or the transaction id). */
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

/** Streams one query into one or more archived files (split by rows or uncompressed bytes). */
export async function createEntityFiles(ctx: CreateContext, query: ExportQuery): Promise<CreatedEntity> {
  const { settings } = ctx;
  const csv = {
    header: settings.csv?.header ?? DEFAULT_CSV.header,
    delimiter: settings.csv?.delimiter ?? DEFAULT_CSV.delimiter,
    quote: settings.csv?.quote ?? DEFAULT_CSV.quote,
  };
  const serialiser = createSerialiser(settings.format, query.columns, csv);
  const maxRows = settings.split?.maxRows ?? Infinity;
  const maxBytes = settings.split?.maxBytes ?? Infinity;
  const files: ArchivedFile[] = [];
  let current: FileWriter | undefined;
  let rows = 0;
  let last: (string | null)[] | undefined;
  const open = async () => {
    const writer = await FileWriter.open(
      ctx.state,
      { runId: ctx.runId, flow: ctx.flow, entity: query.entity, part: files.length + 1, ...fileNameFor(ctx, query.entity, files.length + 1) },
      { compression: settings.compression, ...(ctx.encryption ? { encryption: ctx.encryption } : {}), archive: ctx.archive },
    );
    const header = serialiser.header();
    if (header) await writer.write(header, 0);
    return writer;
  };
  try {
    for await (const row of copyOutRows(ctx.source, query.sql)) {
      current ??= await open();
      await current.write(serialiser.row(query.bookkeeping ? row.slice(query.bookkeeping) : row));
      rows++;
      if (query.bookkeeping) last = row.slice(0, query.bookkeeping);
      if (current.rows >= maxRows || current.plainBytes >= maxBytes) {
        files.push(await current.finish());
        current = undefined;
      }
    }
    // An export without rows still produces one (header-only) file, so the receiver sees the run happened.
    if (!current && files.length === 0) current = await open();
    if (current) files.push(await current.finish());
  } catch (error) {
    await current?.abort(error as Error);
    throw error;
  }
  return { entity: query.entity, rows, files, ...(last ? { last } : {}) };
}
