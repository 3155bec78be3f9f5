import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Logger } from 'pino';
import type { Watermark } from '../../engine/connector.js';
import type { CsvOptions } from '../../export/csv.js';
import { splitTable, type ExportData, type ExportFileFormat, type ExportRead, type ExportSource } from '../../export/source.js';
import { ConfigError } from '../../util/errors.js';
import { literal } from '../../util/sql.js';
import { readTable } from './catalog.js';
import { changeLogInstalled, currentSnapshot, installChangeLog } from './change-log.js';
import { connect, endWithin } from './connect.js';
import { entityQuery, eventsQuery, previousSnapshot, freeQuery, freeQueryTable, type ExportQuery } from './export-query.js';

const CLOSE_WAIT_MS = 2_000;

/** COPY options that make PostgreSQL write the file's records itself: CSV as configured, or one JSON text per line. */
function copyOptions(file: ExportFileFormat): string {
  if (file.format === 'JsonLines') {
    // JSON text never holds a raw control character, so with these as quote and delimiter nothing is ever quoted.
    return `FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'`;
  }
  const csv: CsvOptions = file.csv;
  for (const [name, value] of [['delimiter', csv.delimiter], ['quote', csv.quote]] as const) {
    if (Buffer.byteLength(value) !== 1 || value === '\r' || value === '\n') {
      throw new ConfigError(`spec.target.export.csv.${name}: must be a single one-byte character other than CR or LF, got ${JSON.stringify(value)}`);
    }
  }
  if (csv.delimiter === csv.quote) throw new ConfigError('spec.target.export.csv: delimiter and quote must differ');
  return `FORMAT csv, DELIMITER ${literal(csv.delimiter)}, QUOTE ${literal(csv.quote)}`;
}

/**
 * Exports from PostgreSQL the fast way: the query builds the file's columns (and, for JSON Lines,
 * each row's JSON text) and `COPY ... TO STDOUT` writes the records, so Node only moves bytes.
 */
export class PostgresExportSource implements ExportSource {
  constructor(
    private readonly client: pg.Client,
    private readonly logger: Logger,
  ) {}

  static async open(url: string, what: string, logger: Logger): Promise<PostgresExportSource> {
    return new PostgresExportSource(await connect(url, what), logger);
  }

  async read<T>(request: ExportRead, file: ExportFileFormat, write: (data: ExportData) => Promise<T>): Promise<{ written: T; next?: Watermark }> {
    const records = (query: ExportQuery): ExportData => {
      const stream = this.client.query(copyTo(`COPY (${query.sql}) TO STDOUT WITH (${copyOptions(file)})`));
      return { kind: 'records', columns: query.columns, records: stream as AsyncIterable<Buffer> };
    };
    if (request.kind === 'query') {
      return this.inSnapshot(async () => {
        const columns = await this.freeQueryColumns(request.query);
        const { changes } = request;
        const missing = changes ? [changes.cursor, ...changes.keys].filter((c) => !columns.includes(c)) : [];
        if (missing.length > 0) throw new ConfigError(`spec.target.export.changes: the query has no column ${missing.map((c) => JSON.stringify(c)).join(', ')} (its columns: ${columns.join(', ')})`);
        const query = freeQuery(request.query, file.format, columns, changes, request.after);
        if (query.repeatedSql) await this.refuseRepeatedKey(query.repeatedSql);
        const written = await write(records(query));
        const next = query.lastSql ? await this.last(query.lastSql) : undefined;
        return { written, ...(next ? { next } : {}) };
      });
    }
    const { entity, namespace } = request;
    const table = splitTable(entity.source.table, namespace || 'public');
    if (request.kind === 'events') {
      if (!(await changeLogInstalled(this.client, table))) {
        this.logger.info({ entity: entity.name, table: `${table.schema}.${table.table}` }, 'installing the change-log trigger; events are recorded from now on');
        await installChangeLog(this.client, [table]);
      }
      const to = await currentSnapshot(this.client);
      const query = eventsQuery(entity, table.schema, file.format, previousSnapshot(request.after?.cursor), to);
      const written = await this.inSnapshot(() => write(records(query)));
      // The next run starts at this snapshot, whether or not events became visible in it.
      return { written, next: { cursor: to, key: [] } };
    }
    const info = await readTable(this.client, table.schema, table.table);
    if (!info) throw new ConfigError(`entity ${entity.name}: source table ${table.schema}.${table.table} does not exist`);
    const keyTypes = entity.source.keys.map((k) => {
      const column = info.columns.get(k);
      if (!column) throw new ConfigError(`entity ${entity.name}: key column "${k}" does not exist in ${table.schema}.${table.table}`);
      return column.sqlType;
    });
    for (const f of entity.fields) {
      if (!info.columns.has(f.source)) throw new ConfigError(`entity ${entity.name}: column "${f.source}" does not exist in ${table.schema}.${table.table}`);
    }
    const query = entityQuery(entity, table.schema, request.mode, file.format, keyTypes, request.after);
    return this.inSnapshot(async () => {
      const written = await write(records(query));
      const next = query.lastSql ? await this.last(query.lastSql) : undefined;
      return { written, ...(next ? { next } : {}) };
    });
  }

  /**
   * The free query's columns, from a probe run in the read-only snapshot through the extended
   * protocol, where the server refuses more than one statement: the COPY, which wraps the query the
   * same way, is then one statement too.
   */
  private async freeQueryColumns(query: string): Promise<string[]> {
    const probe = { text: `SELECT * FROM ${freeQueryTable(query)} LIMIT 0`, queryMode: 'extended' } as pg.QueryConfig;
    try {
      return (await this.client.query(probe)).fields.map((f) => f.name);
    } catch (error) {
      if ((error as { severity?: string }).severity === undefined) throw error;
      throw new ConfigError(`spec.target.export.query: ${(error as Error).message}`);
    }
  }

  /** A query whose rows to export repeat a key would export that record twice in one run. */
  private async refuseRepeatedKey(repeatedSql: string): Promise<void> {
    const result = await this.client.query({ text: repeatedSql, rowMode: 'array' });
    const row = result.rows[0] as (string | null)[] | undefined;
    if (row) {
      throw new ConfigError(`spec.target.export.changes.keys: the query returns more than one row for the key (${row.join(', ')}); group the related rows so each key is one row`);
    }
  }

  /** The cursor and key of the last exported row, read in the export's snapshot. */
  private async last(lastSql: string): Promise<Watermark | undefined> {
    const result = await this.client.query({ text: lastSql, rowMode: 'array' });
    const row = result.rows[0] as (string | null)[] | undefined;
    if (!row || row[0] === null) return undefined;
    const [cursor, ...key] = row;
    return { cursor: cursor!, key: key.map((k) => k ?? '') };
  }

  /** Runs the reads of one file set in one snapshot, so the watermark query sees exactly the exported rows. */
  private async inSnapshot<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  close(): Promise<void> {
    return endWithin(this.client, CLOSE_WAIT_MS);
  }
}
