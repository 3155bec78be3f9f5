import { stat } from 'node:fs/promises';
import type { FileSource } from '../../api/files.js';
import { asDeletion, rowProblem, type Row, type TableReader, type Watermark } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { FirstLines, MEMORY_BYTES } from './first-lines.js';
import type { ReadyFile } from './inventory.js';
import { takeKeyCensus, type CensusKeys } from './key-census.js';
import { readRecords, type CsvDialect, type RecordSink } from './parse.js';
import { END_OF_FILE, parsePosition, position, RowBuilder, type FieldView } from './rows.js';

/**
 * Rows whose keys are checked against the earlier ones together, at least: pieces of the file's
 * text (64 KiB, ~750 rows of the bench's file) are taken whole, so a chunk is about three pieces.
 * Small, because the rows of the chunk being read and of the chunk being checked are alive
 * together: with 5,000 (two pieces) a 16 MiB young generation promoted most of them, and the read
 * side of a 1M-row file spent ~20% more CPU (mostly in GC).
 */
const KEY_CHUNK = 2000;

/**
 * Whether `promise` settles before the event loop's next check phase (an answer from memory does;
 * one that waits on a server does not). Nothing is read meanwhile: the reader reads only when asked.
 */
function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const immediate = setImmediate(() => resolve(false));
    const settled = () => {
      clearImmediate(immediate);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}

/**
 * The rows of one file, built as its records are read (a `RecordSink`): each row with its line at
 * the same index (no object per row), taken a chunk at a time. Records are counted into
 * `ready.rows` once the last one was read (also those a resumed read skips); with `after`, only
 * the records past that line make rows.
 */
class FileRows implements RecordSink {
  /** Made with room for as many rows as the last take had (not grown row by row); `count` of them are set. */
  private rows: Row[] = [];
  private lines: number[] = [];
  private count = 0;
  private records = 0;
  private readonly deletedAt: number;

  /** A resumed snapshot's keys on the lines skipped, taken as rows' are (`skippedLines[i]` is `skippedKeys[i]`'s line). */
  private skippedKeys: string[] = [];
  private skippedLines: number[] = [];

  constructor(
    private readonly builder: RowBuilder,
    private readonly file: FileSource,
    private readonly ready: ReadyFile,
    private readonly withValues: boolean,
    private readonly after: number | undefined,
    /** Given for a snapshot: the keys of the lines up to `after` are kept, so that a later line repeating one is still rejected. */
    private readonly codec?: EntityPlan['source']['codec'],
  ) {
    this.deletedAt = file.deletedWhen ? builder.indexOf(file.deletedWhen.column) : -1;
  }

  get columns(): readonly string[] {
    return this.builder.columns;
  }

  record(values: FieldView, line: number): void {
    this.records++;
    if (this.after !== undefined && line <= this.after) {
      const key = this.codec && keyOfRecord(this.builder, this.codec, values, line, this.withValues);
      if (key !== undefined) {
        this.skippedKeys.push(key);
        this.skippedLines.push(line);
      }
      return;
    }
    const { record } = this.ready;
    const row = this.builder.row(values, line, position(record.id, line), record.name, this.withValues);
    // A delta row whose deletedWhen column holds one of its values.
    const deleted = this.deletedAt >= 0 ? values[this.deletedAt] : undefined;
    if (deleted !== null && deleted !== undefined && this.file.deletedWhen!.values.includes(deleted)) asDeletion(row);
    this.add(row, line);
  }

  problem(line: number, reason: string): void {
    this.records++;
    if (this.after !== undefined && line <= this.after) return;
    this.add(this.builder.rejected(line, position(this.ready.record.id, line), this.ready.record.name, reason, this.withValues), line);
  }

  private add(row: Row, line: number): void {
    this.rows[this.count] = row;
    this.lines[this.count++] = line;
  }

  get length(): number {
    return this.count;
  }

  /** The rows built since the last take, and their lines (`lines[i]` is `rows[i]`'s). */
  take(): { rows: Row[]; lines: number[] } {
    const { rows, lines, count } = this;
    rows.length = count;
    lines.length = count;
    this.rows = new Array<Row>(count);
    this.lines = new Array<number>(count);
    this.count = 0;
    return { rows, lines };
  }

  /** How many keys of skipped lines wait to be taken. */
  get skipped(): number {
    return this.skippedKeys.length;
  }

  /** The keys of the lines skipped since the last take, and their lines. */
  takeSkipped(): { keys: string[]; lines: number[] } {
    const { skippedKeys: keys, skippedLines: lines } = this;
    this.skippedKeys = [];
    this.skippedLines = [];
    return { keys, lines };
  }

  /** Counts the file's records into `ready.rows` (after its last one was read). */
  done(): void {
    this.ready.rows = this.records;
  }
}

/** The key of a record's row, or undefined when a problem keeps the row from syncing: built as `FileRows` builds it, with no hash. */
function keyOfRecord(builder: RowBuilder, codec: EntityPlan['source']['codec'], values: FieldView, line: number, withValues: boolean): string | undefined {
  const row = builder.row(values, line, '', '', withValues, false);
  return rowProblem(row) ? undefined : codec.encode(row);
}

/** The keys of a file's rows for a key census (pass 1), no row kept. */
class CensusRows implements RecordSink {
  constructor(
    private readonly builder: RowBuilder,
    private readonly codec: EntityPlan['source']['codec'],
    private readonly withValues: boolean,
    private readonly keys: CensusKeys,
  ) {}

  get columns(): readonly string[] {
    return this.builder.columns;
  }

  record(values: FieldView, line: number): void {
    const key = keyOfRecord(this.builder, this.codec, values, line, this.withValues);
    if (key !== undefined) this.keys.add(key, line);
  }

  problem(): void {}
}

/** Registers the keys of a resumed read's skipped lines (their rows were applied before: nothing is rejected now). */
async function registerSkipped(seen: FirstLines, built: FileRows): Promise<void> {
  const { keys, lines } = built.takeSkipped();
  await seen.register(keys, lines);
}

/** What a reader needs from its source: the files of this run, and who to tell that a file was read to its end. */
export interface EntityFiles {
  pending(): Promise<ReadyFile[]>;
  newestImported(): Promise<ReadyFile | undefined>;
  /** A file whose every row was read (and older pending snapshots it supersedes). */
  consumed(files: ReadyFile[]): void;
  /** Bytes a snapshot file's keys may take in memory (`MEMORY_BYTES` unless a test makes them few). */
  keyMemoryBytes?: number;
}

/**
 * Reads an entity from its files. A snapshot entity is its newest file: Full runs compare all of
 * it (so absent records are gone), Incremental runs read it only when it is new. A delta entity is
 * the files not imported yet, in order. The cursor is the position (file, line), so Incremental
 * resumes after the last row applied, also mid-file after a crash.
 */
export class FilesReader implements TableReader {
  private readonly rows: RowBuilder;
  readonly changesOnly: boolean;
  readonly marksDeletions: boolean;
  /** A snapshot's repeated keys are rejected here (`withoutRepeatedKeys`). */
  readonly uniqueKeys: boolean;

  constructor(
    private readonly plan: EntityPlan,
    private readonly file: FileSource,
    private readonly dialect: CsvDialect,
    private readonly files: EntityFiles,
  ) {
    this.rows = new RowBuilder(plan, file, file.deletedWhen ? [file.deletedWhen.column] : []);
    this.changesOnly = file.contents === 'Delta';
    this.marksDeletions = this.changesOnly && file.deletedWhen !== undefined;
    this.uniqueKeys = file.contents === 'Snapshot';
  }

  private get snapshot(): boolean {
    return this.file.contents === 'Snapshot';
  }

  /** The files a read covers: a snapshot's newest (pending, or else the last imported), or every pending delta. */
  private async current(): Promise<ReadyFile[]> {
    const pending = await this.files.pending();
    if (!this.snapshot) return pending;
    if (pending.length > 0) return [pending[pending.length - 1]!];
    const imported = await this.files.newestImported();
    return imported ? [imported] : [];
  }

  /** The rows of the files in batches: the engine's scans yield them one by one through a single generator, not a chain. */
  private async *read(files: ReadyFile[], withValues: boolean, after?: { fileId: number; line: number }): AsyncGenerator<Row[]> {
    for (const ready of files) {
      const { id } = ready.record;
      if (after && id < after.fileId) continue;
      const plain = await ready.open();
      try {
        const rows = this.rowsOf(ready, withValues, after && id === after.fileId ? after.line : undefined);
        const pieces = this.readInto(ready, plain.path, rows);
        if (this.snapshot) yield* this.withoutRepeatedKeys(ready, plain.path, pieces, rows, withValues);
        else for await (const _piece of pieces) if (rows.length > 0) yield rows.take().rows;
      } finally {
        plain.release();
      }
    }
    this.files.consumed(files);
  }

  private rowsOf(ready: ReadyFile, withValues: boolean, after?: number): FileRows {
    return new FileRows(this.rows, this.file, ready, withValues, after, this.snapshot ? this.plan.source.codec : undefined);
  }

  /** Reads a file's records into `rows`, yielding after each piece of the file; with `count`, counts them once the last was read. */
  private async *readInto(ready: ReadyFile, plain: string, rows: FileRows, count = true): AsyncGenerator<number> {
    yield* readRecords(plain, this.file.format ?? 'Csv', this.dialect, this.file.columns?.map((c) => c.name), ready.cleanQuoting, rows);
    if (count) rows.done();
  }

  /**
   * A snapshot's rows, a key repeated in the file rejected with the line it first came on. The keys
   * seen are kept in memory up to a budget; a file whose keys do not fit is counted by a key census
   * (`takeKeyCensus`, a pass over the file first), so memory stays flat however long the file.
   */
  private async *withoutRepeatedKeys(ready: ReadyFile, plain: string, pieces: AsyncIterable<number>, built: FileRows, withValues: boolean): AsyncGenerator<Row[]> {
    const budget = this.files.keyMemoryBytes ?? MEMORY_BYTES;
    const fileBytes = (await stat(plain)).size;
    const seen = new FirstLines(budget, (signal) => takeKeyCensus(plain, fileBytes, budget, (keys) => this.census(ready, plain, withValues, keys, signal)));
    // The share of the file read, by its bytes: the register foresees a census by it.
    let read = 0;
    const progress = () => (fileBytes > 0 && read > 0 ? Math.min(1, read / fileBytes) : undefined);
    try {
      // A chunk whose keys the register answered at once (they fit in memory) goes to the engine
      // before the next piece is read: its rows then live one piece less, and fewer of them outlive
      // two scavenges. A chunk that waits for the census is checked while the next chunk is read
      // (the register answers its batches in file order).
      let checking: Promise<Row[]> | undefined;
      for await (const bytes of pieces) {
        read += bytes;
        // A resumed read's skipped lines come first: their keys are registered before any row is checked.
        if (built.skipped >= KEY_CHUNK || (built.skipped > 0 && built.length > 0)) await registerSkipped(seen, built);
        if (built.length < KEY_CHUNK) continue;
        const next = this.checkKeys(seen, ready, built.take(), withValues, progress());
        next.catch(() => {}); // surfaced when its turn comes
        const answered = await settledAtOnce(next);
        if (checking) yield await checking;
        checking = next;
        if (!answered) continue;
        checking = undefined;
        yield await next;
      }
      if (built.skipped > 0) await registerSkipped(seen, built);
      const last = this.checkKeys(seen, ready, built.take(), withValues, progress());
      last.catch(() => {});
      if (checking) yield await checking;
      yield await last;
    } finally {
      await seen.drop();
    }
  }

  /** A chunk's rows (`lines[i]` is `rows[i]`'s line), each whose key came on an earlier line replaced by its rejection. */
  private async checkKeys(seen: FirstLines, ready: ReadyFile, { rows, lines }: { rows: Row[]; lines: number[] }, withValues: boolean, progress: number | undefined): Promise<Row[]> {
    const { codec } = this.plan.source;
    // Sized once (no array grown row by row); the lines are the chunk's own when every row has a key.
    const keys = new Array<string>(rows.length);
    let keyLines = lines;
    let count = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      // The codec reads the key parts, the row's first values.
      const key = rowProblem(row) ? undefined : codec.encode(row);
      if (key === undefined) {
        if (keyLines === lines) keyLines = lines.slice(0, i);
        continue;
      }
      keys[count++] = key;
      if (keyLines !== lines) keyLines.push(lines[i]!);
    }
    keys.length = count;
    const repeated = await seen.register(keys, keyLines, progress);
    if (repeated.size === 0) return rows;
    for (let i = 0; i < rows.length; i++) {
      const first = repeated.get(lines[i]!);
      if (first === undefined) continue;
      const { record } = ready;
      rows[i] = this.rows.rejected(lines[i]!, position(record.id, lines[i]!), record.name, `duplicate key (first at line ${first})`, withValues);
    }
    return rows;
  }

  /** Pass 1 of a key census: the file read again, the key of every row without a problem given to `keys`; stopped by `signal`. */
  private async census(ready: ReadyFile, plain: string, withValues: boolean, keys: CensusKeys, signal: AbortSignal): Promise<void> {
    const sink = new CensusRows(this.rows, this.plan.source.codec, withValues, keys);
    for await (const _piece of readRecords(plain, this.file.format ?? 'Csv', this.dialect, this.file.columns?.map((c) => c.name), ready.cleanQuoting, sink)) signal.throwIfAborted();
  }

  async *scan(withValues: boolean): AsyncGenerator<Row> {
    for await (const rows of this.scanChunks(withValues)) for (const row of rows) yield row;
  }

  async *scanChunks(withValues: boolean): AsyncGenerator<Row[]> {
    yield* this.read(await this.current(), withValues);
    // Older snapshots that came since the last run are superseded by the newest one.
    if (this.snapshot) this.files.consumed(await this.files.pending());
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    const pending = await this.files.pending();
    const files = this.snapshot ? pending.slice(-1) : pending;
    for await (const rows of this.read(files, true, watermark ? parsePosition(watermark.cursor) : undefined)) for (const row of rows) yield row;
    if (this.snapshot) this.files.consumed(pending);
  }

  async *byKeys(keys: string[][]): AsyncGenerator<Row> {
    const wanted = new Set(keys.map((k) => this.plan.source.codec.encode(k)));
    for await (const row of this.scanQuietly()) {
      if (!rowProblem(row) && wanted.has(this.plan.source.codec.encode(row.slice(0, this.plan.source.keys.length) as string[]))) yield row;
    }
  }

  /** A scan that does not count as consuming the files (reads by key, Record closures); rows with a problem and deletions (`asDeletion`) included. */
  async *scanQuietly(): AsyncGenerator<Row> {
    for (const ready of await this.current()) {
      const plain = await ready.open();
      try {
        const rows = this.rowsOf(ready, true);
        for await (const _piece of this.readInto(ready, plain.path, rows, false)) for (const row of rows.take().rows) yield row;
      } finally {
        plain.release();
      }
    }
  }

  async newestCursor(): Promise<Watermark | undefined> {
    const files = await this.current();
    const last = files[files.length - 1];
    return last ? { cursor: position(last.record.id, END_OF_FILE), key: this.plan.source.keys.map(() => '') } : undefined;
  }

  async estimateRows(): Promise<number> {
    return 0;
  }

  async countChangedSince(watermark: Watermark | undefined, cap: number): Promise<number> {
    const pending = await this.files.pending();
    if (!watermark) return pending.length > 0 ? cap : 0;
    const after = parsePosition(watermark.cursor);
    return pending.some((f) => f.record.id > after.fileId || (f.record.id === after.fileId && after.line < END_OF_FILE)) ? cap : 0;
  }
}
