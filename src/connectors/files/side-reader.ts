import { rowProblem, withProblem, type Row, type RowProblem, type SideReader, type SideSpec, type Watermark } from '../../engine/connector.js';
import type { EntityPlan, FieldPlan } from '../../engine/plan.js';
import type { StagedRows } from '../../store/staged-rows.js';
import { FilesReader } from './reader.js';
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
 * newest snapshot, or the pending delta files, as one-way runs read them.
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

  /** Every row of the current files, staged by key in the state database (the first line of a key is the record). */
  private async stage(stage: StagedRows<StagedSideRow>): Promise<void> {
    const codec = this.side.reader.source.codec;
    let chunk: { key: string; row: StagedSideRow }[] = [];
    for await (const row of this.files.scanQuietly()) {
      const side = this.sideRow(row);
      const key = codec.encode(side.slice(0, this.width) as string[]);
      if (key === undefined) continue;
      const problem = rowProblem(side);
      chunk.push({ key, row: { row: [...side], ...(problem ? { problem } : {}) } });
      if (chunk.length < STAGE_CHUNK) continue;
      await stage.add(chunk);
      chunk = [];
    }
    await stage.add(chunk);
  }

  /**
   * Rows by key, from the rows staged on the first call of the run (a file cannot be read by key).
   * Rows with a problem are returned too: a record whose line has a bad value is still in the file
   * (its writes are rejected with the reason), not gone (which would archive or delete its partner).
   */
  async rowsByKeys(keys: string[][]): Promise<Row[]> {
    const codec = this.side.reader.source.codec;
    const stage = await this.entity.sideRows((s) => this.stage(s));
    const found = await stage.byKeys(keys.map((k) => codec.encode(k)!));
    return found.map(({ row, problem }) => (problem ? withProblem(row, problem) : row));
  }

  async *streamHashes(): AsyncGenerator<Row> {
    for await (const row of this.files.scan(true)) {
      const side = this.sideRow(row);
      const hashes: Row = [...side.slice(0, this.width), side[this.width + 2]!, side[this.width + 4]!];
      const problem = rowProblem(side);
      yield problem ? withProblem(hashes, problem) : hashes;
    }
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    for await (const row of this.files.changedSince(watermark)) yield this.sideRow(row);
  }

  newestCursor(): Promise<Watermark | undefined> {
    return this.files.newestCursor();
  }
}
