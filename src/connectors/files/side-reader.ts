import { isDeletion, rowProblem, withProblem, type Row, type RowProblem, type SideReader, type SideSpec, type Watermark } from '../../engine/connector.js';
import type { EntityPlan, FieldPlan } from '../../engine/plan.js';
import type { StagedRows } from '../../store/staged-rows.js';
import type { FileSideLine, FileSideRecords } from '../../store/file-side-records.js';
import { ConfigError } from '../../util/errors.js';
import { FilesReader } from './reader.js';
import { parsePosition, position } from './rows.js';
import type { ReadyFile } from './inventory.js';
import type { FileEntity } from './session.js';

/** A side row as staged in the state database (its problem, if any, beside it). */
export interface StagedSideRow {
  row: Row;
  problem?: RowProblem;
}

/** Side rows staged per chunk: one insert of this many rows. */
const STAGE_CHUNK = 5000;

/**
 * The plan the side's rows are read with: every mapping twice, as stored (no transform, no value
 * map) and as sent to the database (with them), then the match columns and the archive column.
 * The file reader types, checks, hashes and deduplicates them as it does for one-way runs.
 */
function sidePlan(side: SideSpec): EntityPlan {
  const { reader, writer, mappings } = side;
  const stored = mappings.map(({ valueMap: _map, ...f }): FieldPlan => ({ ...f, transform: 'None' }));
  const archive = writer.target.archive;
  return {
    ...reader,
    keyFields: [],
    fields: [...stored, ...mappings],
    match: [...reader.match, ...(archive ? [{ source: archive.column, target: archive.column, normalize: 'None' as const }] : [])],
  };
}

/**
 * Reads the files side of a two-way flow (the rows of `SIDE_LAYOUT`). The side is read-only (the
 * session has no writer), so its hash is only compared with earlier reads of the same files: the
 * newest snapshot, or a Delta entity's records as the files applied so far leave them.
 */
export class FilesSideReader implements SideReader {
  private readonly files: FilesReader;

  constructor(
    private readonly side: SideSpec,
    private readonly entity: FileEntity,
  ) {
    this.files = new FilesReader(sidePlan(side), entity.file, entity.dialect, entity.files);
  }

  private get width(): number {
    return this.side.reader.source.keys.length;
  }

  /** A reader row (`SOURCE_LAYOUT` with values) in `SIDE_LAYOUT`; a row without a usable key gets null keys, so the engine rejects it with its problem. */
  private sideRow(row: Row): Row {
    const n = this.side.mappings.length;
    const first = this.width + 3;
    const problem = rowProblem(row);
    const keys = row.slice(0, this.width);
    const usableKey = !problem || keys.every((k) => k !== '' && k !== null);
    const archive = this.side.writer.target.archive;
    const archiveValue = archive ? row[first + 2 * n + this.side.reader.match.length] : null;
    const out: Row = [
      ...(usableKey ? keys : keys.map(() => null)),
      row[this.width]!,
      null,
      problem ? `problem: ${problem.reason}` : row[this.width + 1]!,
      row[this.width + 2]!,
      archive && archiveValue === archive.value ? 't' : 'f',
      ...row.slice(first, first + 2 * n),
      ...row.slice(first + 2 * n, first + 2 * n + this.side.reader.match.length),
    ];
    return problem ? withProblem(out, problem) : out;
  }

  /** The current files' lines whose key can be read, each made an entry and handed to `add` in chunks (memory stays flat). */
  private async inChunks<T>(entry: (key: string, side: Row, row: Row) => T, add: (chunk: T[]) => Promise<void>): Promise<void> {
    const codec = this.side.reader.source.codec;
    let chunk: T[] = [];
    for await (const row of this.files.scanQuietly()) {
      const side = this.sideRow(row);
      const key = codec.encode(side.slice(0, this.width) as string[]);
      if (key === undefined) continue;
      chunk.push(entry(key, side, row));
      if (chunk.length < STAGE_CHUNK) continue;
      await add(chunk);
      chunk = [];
    }
    await add(chunk);
  }

  private staged(side: Row): StagedSideRow {
    const problem = rowProblem(side);
    return { row: [...side], ...(problem ? { problem } : {}) };
  }

  /** Every row of the current files, staged by key in the state database (the first line of a key is the record). */
  private stage(stage: StagedRows<StagedSideRow>): Promise<void> {
    return this.inChunks((key, side) => ({ key, row: this.staged(side) }), (chunk) => stage.add(chunk));
  }

  /**
   * A Delta entity's records brought up to date with the pending files, line by line in file order
   * (a line marked deleted removes its record). Done once per run, before the engine reads the side;
   * lines a run applies again (after a crash) change nothing.
   */
  private async record(records: FileSideRecords<StagedSideRow>): Promise<void> {
    const through = await records.recordedThrough();
    const pending = await this.entity.files.pending();
    const missed = (id: number) => through === undefined || id > through;
    await this.checkHistory(records, pending, missed);
    // A file imported again that the records missed takes its first place in the order (it came before the new ones); one they hold is applied now.
    const firstPlace = new Map(pending.flatMap((f) => (f.replaces !== undefined && missed(f.replaces) ? [[f.record.id, f.replaces] as const] : [])));
    const placed = (cursor: string): string => {
      const { fileId, line } = parsePosition(cursor);
      const first = firstPlace.get(fileId);
      return first === undefined ? cursor : position(first, line);
    };
    await this.inChunks(
      (key, side, row): FileSideLine<StagedSideRow> => ({ key, position: placed(side[this.width] as string), row: isDeletion(row) ? null : this.staged(side) }),
      (chunk) => records.apply(chunk),
    );
    // Only once every line is in: a run killed before this checks the history again.
    await records.markRecordedThrough(Math.max(through ?? 0, ...pending.map((f) => f.record.id)));
  }

  /**
   * Files imported while the records were not kept (before the first two-way run, or by a OneWay
   * run in between) hold lines the records miss: with pairs made from them, a record only they hold
   * would look deleted (its partner archived or deleted), or stale. Unless this run imports every
   * one of them again, the run is refused, naming them.
   */
  private async checkHistory(records: FileSideRecords<StagedSideRow>, pending: ReadyFile[], missed: (id: number) => boolean): Promise<void> {
    if (!(await records.paired())) return;
    const again = new Set(pending.flatMap((f) => (f.replaces === undefined ? [] : [f.replaces])));
    const missing = (await this.entity.imported()).filter((f) => missed(f.id) && !again.has(f.id)).map((f) => f.name);
    if (missing.length === 0) return;
    throw new ConfigError(
      `entity ${this.entity.entity}: files were imported while this flow did not keep the records of its Delta files (it was OneWay, or the files were snapshots), so a record only they hold would look deleted or stale; import them again in this run (ferry run --reimport ${missing.slice(0, 3).join(' --reimport ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}) to rebuild the records`,
    );
  }

  /**
   * Where the side's rows are looked up: a snapshot's rows staged on the first call of the run (a file
   * cannot be read by key), or a Delta entity's records (changes only: a record absent from the new
   * files keeps the row its last line gave).
   */
  private source(): Promise<StagedRows<StagedSideRow> | FileSideRecords<StagedSideRow>> {
    return this.delta ? this.records() : this.entity.sideRows((s) => this.stage(s));
  }

  private records(): Promise<FileSideRecords<StagedSideRow>> {
    return this.entity.sideRecords((r) => this.record(r));
  }

  private get delta(): boolean {
    return this.entity.file.contents === 'Delta';
  }

  /**
   * Rows by key. Rows with a problem are returned too: a record whose line has a bad value is still
   * in the file (its writes are rejected with the reason), not gone (which would archive or delete
   * its partner).
   */
  async rowsByKeys(keys: string[][]): Promise<Row[]> {
    const codec = this.side.reader.source.codec;
    const found = await (await this.source()).byKeys(keys.map((k) => codec.encode(k)!));
    return found.map(({ row, problem }) => (problem ? withProblem(row, problem) : row));
  }

  /** `[...keys, hash, archived]` of every record: a snapshot's newest file, or a Delta entity's records once the pending files are applied. */
  async *streamHashes(): AsyncGenerator<Row> {
    const hashes = (side: Row, problem: RowProblem | undefined): Row => {
      const out: Row = [...side.slice(0, this.width), side[this.width + 2]!, side[this.width + 4]!];
      return problem ? withProblem(out, problem) : out;
    };
    if (!this.delta) {
      for await (const row of this.files.scan(true)) {
        const side = this.sideRow(row);
        yield hashes(side, rowProblem(side));
      }
      return;
    }
    for await (const { row, problem } of (await this.records()).all()) yield hashes(row, problem);
    // Every line of the pending files is in the records now.
    this.entity.files.consumed(await this.entity.files.pending());
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    // The records take in every file this run imports, also when no line of it reaches the engine.
    if (this.delta) await this.records();
    for await (const row of this.files.changedSince(watermark)) yield this.sideRow(row);
  }

  newestCursor(): Promise<Watermark | undefined> {
    return this.files.newestCursor();
  }
}
