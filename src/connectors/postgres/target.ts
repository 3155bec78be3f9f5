import type pg from 'pg';
import { drawnKey, type DrawnKeyList, type FreshBatch, type FreshRows, type Row, type RowRejection, type Session, type StageRow, type TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { FerryError } from '../../util/errors.js';
import { copyIn } from '../../util/copy-in.js';
import { CopyData } from '../../util/copy-text.js';
import { copyOutRows } from '../../util/copy-out.js';
import { ident, literal, qualified } from '../../util/sql.js';
import { applyWithBisection } from '../bisect.js';
import { savepointUnit } from './unit-of-work.js';
import { literalFor, normaliseSql, orderExpression } from './sql.js';
import { digestAt, FreshCopyBatch } from './fresh-batch.js';
import { freshRowWriter, serverTraits, type FreshRowWriter } from './stored-hash.js';

/** Written FreshCopyBatches kept for reuse: about as many as are filled or in flight at once. */
const SPARE_BATCHES = 4;

type Savepoints = Pick<Session, 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint'>;

/**
 * Everything Ferry does to one target table. Rows are staged with COPY into a session temp table as
 * text, then cast and upserted in one statement, so a batch costs a handful of round trips.
 */
export class TargetTable implements TableWriter {
  private readonly table: string;
  private readonly stage: string;
  private staged = false;
  /** How fresh rows' stored hashes are worked out without reading them back (asked on the first COPY). */
  private rowWriter?: Promise<FreshRowWriter | undefined>;
  /** The size of the last fresh COPY's data: the next one starts with a buffer that fits it. */
  private freshSize?: number;
  /** The last FreshCopyBatch's bytes and rows: the next one starts with buffers that fit them. */
  private batchBytes = 64 * 1024;
  private batchRows = 1024;
  /** The COPY data of a FreshCopyBatch's rows with their keys (`copyFreshBatch`). */
  private assembly?: CopyData;
  /** Batches written, for `freshBatches` to fill again. */
  private readonly spareBatches: FreshCopyBatch[] = [];

  constructor(
    private readonly client: pg.ClientBase,
    private readonly savepoints: Savepoints,
    private readonly plan: EntityPlan,
  ) {
    this.table = qualified(plan.target.schema, plan.target.table);
    this.stage = ident(`ferry_stage_${plan.position}`);
  }

  private get keyColumns(): string[] {
    return this.plan.target.keys.map(ident);
  }

  private get fieldColumns(): string[] {
    return this.plan.fields.map((f) => ident(f.target));
  }

  /** md5 over the stored target columns; identical text to `expectedHashes` for the same values. */
  hashExpression(columns = this.fieldColumns): string {
    return `md5(ROW(${columns.join(', ')})::text)`;
  }

  /**
   * `WHERE` clause selecting rows by key, as parameters: `= ANY(array)` (or a join on unnest for
   * composite keys) lets PostgreSQL use the key index instead of scanning the table per batch.
   */
  private keyFilter(keys: string[][]): { where: string; values: string[][] } {
    const types = this.plan.target.keyTypes;
    if (types.length === 1) return { where: `${this.keyColumns[0]} = ANY($1::${types[0]}[])`, values: [keys.map((k) => k[0])] };
    const arrays = types.map((_, i) => keys.map((k) => k[i]));
    const unnest = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    return { where: `(${this.keyColumns.join(', ')}) IN (SELECT * FROM unnest(${unnest}))`, values: arrays };
  }


  async isEmpty(): Promise<boolean> {
    const result = await this.client.query(`SELECT NOT EXISTS (SELECT 1 FROM ${this.table}) AS empty`);
    return result.rows[0].empty;
  }

  /** Draws `count` new keys from the key columns' defaults (sequences never hand out a value twice). */
  async allocateKeys(count: number): Promise<DrawnKeyList> {
    const { keyDefaults, keyKinds } = this.plan.target;
    const columns = keyDefaults.length;
    if (count === 0) return { columns, values: [] };
    if (keyDefaults.length === 1 && keyKinds[0] === 'integer') {
      // One row holding every key (not a row per key to parse): an integer's text is what its value prints as.
      const drawn = await this.client.query({
        text: `SELECT string_agg((${keyDefaults[0]})::text, ',') FROM generate_series(1, $1::int)`,
        values: [count],
        rowMode: 'array',
      });
      const keys = ((drawn.rows[0][0] as string | null) ?? '').split(',');
      // A default that gave NULL is skipped by string_agg: then draw again as below (NULL keys fail the write there).
      if (keys.length === count) return { columns, values: keys };
    }
    const result = await this.client.query({
      text: `SELECT ${this.plan.target.keyDefaults.join(', ')} FROM generate_series(1, $1::int)`,
      values: [count],
      rowMode: 'array',
    });
    const values: string[] = [];
    for (const row of result.rows as unknown[][]) for (const v of row) values.push(String(v));
    return { columns, values };
  }

  insertReturningKeys(): Promise<Map<number, { key: string[]; hash: string }>> {
    throw new FerryError('PostgreSQL draws new keys from the key defaults before writing (allocateKeys)', 1);
  }

  private async ensureStage(): Promise<void> {
    if (this.staged) {
      await this.client.query(`TRUNCATE ${this.stage}`);
      return;
    }
    // Typed like the target columns, so COPY's input functions reject exactly what the target would.
    const keyCols = this.plan.target.keyTypes.map((type, i) => `k${i} ${type}`);
    const fieldCols = this.plan.fields.map((f, i) => `f${i} ${f.targetType}`);
    await this.client.query(`DROP TABLE IF EXISTS pg_temp.${this.stage}`);
    await this.client.query(`CREATE TEMP TABLE ${this.stage} (seq int PRIMARY KEY, ${[...keyCols, ...fieldCols].join(', ')})`);
    this.staged = true;
  }

  /** The COPY data of fresh rows; with a writer, also each row's stored hash into `hashes` (undefined where not certain). */
  private freshCopyData(rows: FreshRows, writer: FreshRowWriter | undefined, hashes: (string | undefined)[]): Buffer {
    const data = writer ? writer.copyData(this.freshSize) : new CopyData();
    const { keys, values } = rows;
    if (!writer) {
      for (let r = 0; r < keys.length; r++) {
        addKey(data, keys[r]!, values[r]!.length === 0);
        addValues(data, values[r]!);
      }
      return data.toBuffer();
    }
    // The hashes' hex digits side by side: a row's hash is a slice of a string of many (digestAt), not a string made from bytes each.
    const digests = Buffer.allocUnsafe(32 * keys.length);
    const known = new Uint8Array(keys.length);
    for (let r = 0; r < keys.length; r++) {
      const rowValues = values[r]!;
      addKey(data, keys[r]!, rowValues.length === 0);
      known[r] = writer.writeDigest(rowValues, data, digests, 32 * r) ? 1 : 0;
    }
    const texts: string[] = [];
    for (let r = 0; r < keys.length; r++) hashes[r] = known[r] ? digestAt(digests, keys.length, texts, r) : undefined;
    const bytes = data.toBuffer();
    this.freshSize = bytes.length;
    return bytes;
  }

  private async copyIntoStage(rows: StageRow[]): Promise<void> {
    const data = new CopyData();
    for (let r = 0; r < rows.length; r++) {
      const { seq, key, values } = rows[r]!;
      data.field(String(seq));
      addKey(data, key, values.length === 0);
      addValues(data, values);
    }
    await copyIn(this.client, `COPY ${this.stage} FROM STDIN`, data.toBuffer());
  }

  /**
   * Rows whose target keys were just drawn from the key defaults cannot exist yet, so they go
   * straight into the target with one COPY, as a bulk loader would. Returns the stored hash of each
   * row, in the order of `rows`; `undefined` when any row failed (nothing is kept, and the caller
   * takes the row-by-row path that can reject single rows). The hashes are worked out from the values
   * where their stored text is certain (stored-hash.ts); only the other rows are read back.
   */
  async copyFresh(rows: FreshRows): Promise<string[] | undefined> {
    const count = rows.keys.length;
    if (count === 0) return [];
    const writer = await (this.rowWriter ??= this.freshRowWriter());
    // The hashes are kept only if the COPY succeeds.
    // By position, not by encoded key: no key is encoded and no map is built per row.
    const hashes: (string | undefined)[] = new Array<string | undefined>(count);
    const data = this.freshCopyData(rows, writer, hashes);
    return this.copyRows([...this.keyColumns, ...this.fieldColumns], data, count, (i) => rows.keys[i]!, (i) => hashes[i]);
  }

  /**
   * Capability `freshBatches`: fresh rows become COPY text and stored hashes as they are read (see
   * FreshCopyBatch). None without a FreshRowWriter: the rows' hashes would all be read back.
   */
  async freshBatches(): Promise<(() => FreshBatch) | undefined> {
    const writer = await (this.rowWriter ??= this.freshRowWriter());
    if (!writer) return undefined;
    // Sized like the last batch (its data and its rows): a batch's buffers are not grown row by row.
    return () => this.spareBatches.pop() ?? new FreshCopyBatch(writer, writer.copyData(this.batchBytes), this.batchRows);
  }

  /** `copyFresh` for a FreshCopyBatch's rows: their fields' COPY text with each key appended (the key columns come last). */
  async copyFreshBatch(batch: FreshBatch, positions: number[], keys: DrawnKeyList): Promise<string[] | undefined> {
    const count = positions.length;
    if (count === 0) return [];
    const rows = batch as FreshCopyBatch;
    this.batchBytes = Math.max(1024, rows.data.length);
    this.batchRows = Math.max(16, rows.size);
    // One buffer for every batch's COPY (reused: each COPY has ended before the next one is built).
    const data = (this.assembly ??= new CopyData(undefined, rows.data.length + 16 * count));
    data.clear();
    const source = rows.data.buffer;
    for (let i = 0; i < count; i++) {
      const position = positions[i]!;
      data.raw(source, rows.start(position), rows.end(position));
      addDrawnKey(data, keys, i);
    }
    // The hashes are made once the COPY is done: strings made before would wait through it and outlive the young generation.
    const hashOf = (i: number): string | undefined => {
      const position = positions[i]!;
      return rows.isKnown(position) ? rows.digestOf(position) : undefined;
    };
    const copied = await this.copyRows([...this.fieldColumns, ...this.keyColumns], data.toBuffer(), count, (i) => drawnKey(keys, i), hashOf);
    // Written: the batch is done with (see FreshBatch), and its buffers serve a later batch. Buffers
    // allocated per batch live across young collections and would be freed by mark-compacts only.
    if (copied && this.spareBatches.length < SPARE_BATCHES) {
      rows.reset();
      this.spareBatches.push(rows);
    }
    return copied;
  }

  /**
   * COPYs fresh rows' data (columns in `columns` order) into the table inside a savepoint, in one
   * round trip (the savepoint, the COPY and the release as one query string, see copyIn); returns
   * the `count` rows' stored hashes, as `hashOf` knows them (asked once the COPY is done) or else
   * read back, or undefined when the COPY failed (nothing is kept).
   */
  private async copyRows(
    columns: string[],
    data: Buffer,
    count: number,
    keyOf: (row: number) => string[],
    hashOf: (row: number) => string | undefined,
  ): Promise<string[] | undefined> {
    const tags: string[] = [];
    try {
      await copyIn(this.client, `SAVEPOINT fresh_copy; COPY ${this.table} (${columns.join(', ')}) FROM STDIN; RELEASE SAVEPOINT fresh_copy`, data, { tags });
    } catch (error) {
      // A failed COPY is the batch's own (its rows then take the path that rejects single rows); a failed savepoint is the transaction's.
      if (tags.length !== 1) throw error;
      await this.client.query('ROLLBACK TO SAVEPOINT fresh_copy; RELEASE SAVEPOINT fresh_copy');
      return undefined;
    }
    const hashes = new Array<string | undefined>(count);
    const unknown: number[] = [];
    for (let i = 0; i < count; i++) if ((hashes[i] = hashOf(i)) === undefined) unknown.push(i);
    if (unknown.length > 0) {
      const codec = this.plan.target.codec;
      const keys = unknown.map(keyOf);
      const read = await this.drawnHashes(keys);
      unknown.forEach((row, i) => (hashes[row] = read.get(codec.encode(keys[i]!)!)!));
    }
    return hashes as string[];
  }

  /**
   * `currentHashes` of drawn keys: they are usually one run of a sequence, and then `BETWEEN` its ends
   * is one index range scan instead of a probe per key (no other row can lie in a run of distinct keys).
   */
  private async drawnHashes(keys: string[][]): Promise<Map<string, string>> {
    const run = this.plan.target.keyKinds.length === 1 && this.plan.target.keyKinds[0] === 'integer' ? integerRun(keys) : undefined;
    if (!run) return this.currentHashes(keys);
    const type = this.plan.target.keyTypes[0];
    const result = await this.client.query({
      text: `SELECT ${this.keyColumns[0]}::text, ${this.hashExpression()} FROM ${this.table} WHERE ${this.keyColumns[0]} BETWEEN $1::${type} AND $2::${type}`,
      values: run,
      rowMode: 'array',
    });
    const out = new Map<string, string>();
    for (const row of result.rows as string[][]) out.set(this.plan.target.codec.encode([row[0]!])!, row[1]!);
    return out;
  }

  private async freshRowWriter(): Promise<FreshRowWriter | undefined> {
    return freshRowWriter(
      this.plan.fields.map((f) => f.targetType),
      await serverTraits(this.client, this.table),
    );
  }

  /**
   * Loads the rows into the typed stage table (inside the caller's transaction). Rows whose values
   * do not fit the target columns are rejected with the column and PostgreSQL's reason.
   */
  async stageRows(rows: StageRow[], rejections: RowRejection[]): Promise<void> {
    await this.ensureStage();
    await applyWithBisection(
      savepointUnit(this.savepoints),
      rows,
      (subset) => this.copyIntoStage(subset),
      (row, error) => {
        rejections.push({ seq: row.seq, reason: this.describeCopyError(error) });
      },
    );
  }

  /** COPY names the failing stage column in the error context; translate it to the target column. */
  private describeCopyError(error: Error): string {
    const where = (error as Error & { where?: string }).where ?? '';
    const match = /column ([kf])(\d+)/.exec(where);
    if (!match) return error.message;
    const index = Number(match[2]);
    const column = match[1] === 'k' ? this.plan.target.keys[index] : this.plan.fields[index]?.target;
    return `column ${column}: ${error.message}`;
  }

  /** The hash each staged row will have once stored (same expression as `hashExpression`). */
  async expectedHashes(): Promise<Map<number, string>> {
    const stageColumns = this.plan.fields.map((_, i) => `f${i}`);
    const result = await this.client.query(`SELECT seq, ${this.hashExpression(stageColumns)} AS hash FROM ${this.stage}`);
    return new Map(result.rows.map((row) => [row.seq, row.hash]));
  }

  /**
   * Writes the staged rows by target key; rows violating a constraint are rejected alone. `insert`
   * is for keys Ferry just generated: a conflict there means the key belongs to a row Ferry does not
   * own (e.g. a sequence set back), so it is rejected rather than overwritten.
   */
  async write(seqs: number[], rejections: RowRejection[], mode: 'insert' | 'upsert'): Promise<void> {
    const columns = [...this.keyColumns, ...this.fieldColumns];
    const overriding = this.plan.target.identityAlways ? ' OVERRIDING SYSTEM VALUE' : '';
    const onConflict =
      mode === 'insert'
        ? ''
        : this.fieldColumns.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${this.fieldColumns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')} WHERE (${this.fieldColumns
            .map((c) => `t.${c}`)
            .join(', ')}) IS DISTINCT FROM (${this.fieldColumns.map((c) => `EXCLUDED.${c}`).join(', ')})`;
    const sql =
      `INSERT INTO ${this.table} AS t (${columns.join(', ')})${overriding} ` +
      `SELECT ${[...this.plan.target.keys.map((_, i) => `s.k${i}`), ...this.plan.fields.map((_, i) => `s.f${i}`)].join(', ')} FROM ${this.stage} s WHERE s.seq = ANY($1::int[]) ` +
      (onConflict ? `ON CONFLICT (${this.keyColumns.join(', ')}) ${onConflict}` : '');
    await applyWithBisection(
      savepointUnit(this.savepoints),
      seqs,
      async (subset) => {
        await this.client.query(sql, [subset]);
      },
      (seq, error) => {
        rejections.push({ seq, reason: describeConstraintError(error) });
      },
    );
  }

  async setArchived(keys: string[][], archived: boolean): Promise<void> {
    const archive = this.plan.target.archive;
    if (!archive || keys.length === 0) return;
    const written = archived ? archive.value : archive.restoreValue;
    const value = written === undefined ? 'DEFAULT' : literalFor(written, `archive value of ${this.plan.target.table}.${archive.column}`);
    const filter = this.keyFilter(keys);
    // A row that already holds the value is not written again (a run re-done after a crash archives it once).
    const changes = written === undefined ? '' : ` AND ${ident(archive.column)} IS DISTINCT FROM ${value}`;
    await this.client.query(`UPDATE ${this.table} SET ${ident(archive.column)} = ${value} WHERE (${filter.where})${changes}`, filter.values);
  }

  /** Deletes rows by key; a row that cannot go (e.g. still referenced) is rejected alone. */
  async deleteRows(keys: string[][], reject: (key: string[], reason: string) => void): Promise<number> {
    let deleted = 0;
    await applyWithBisection(
      savepointUnit(this.savepoints),
      keys,
      async (subset) => {
        const filter = this.keyFilter(subset);
        const result = await this.client.query(`DELETE FROM ${this.table} WHERE ${filter.where}`, filter.values);
        deleted += result.rowCount ?? 0;
      },
      (key, error) => reject(key, describeConstraintError(error)),
    );
    return deleted;
  }

  /** Current hashes of the rows with these keys (missing rows are absent from the map). */
  async currentHashes(keys: string[][]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const filter = this.keyFilter(keys);
    const result = await this.client.query({
      text: `SELECT ${this.keyColumns.map((k) => `${k}::text`).join(', ')}, ${this.hashExpression()} FROM ${this.table} WHERE ${filter.where}`,
      values: filter.values,
      rowMode: 'array',
    });
    const width = this.keyColumns.length;
    for (const row of result.rows as string[][]) out.set(this.plan.target.codec.encode(row.slice(0, width))!, row[width]);
    return out;
  }

  /** Every target row's key and hash, in encoded key order, for the Full-mode drift check. */
  streamHashes(): AsyncGenerator<Row> {
    const order = this.plan.target.keys.map((k, i) => orderExpression(`t.${ident(k)}`, this.plan.target.keyKinds[i])).join(', ');
    return copyOutRows(this.client, `SELECT ${this.keyColumns.join(', ')}, ${this.hashExpression()} FROM ${this.table} AS t ORDER BY ${order}`);
  }

  /** Finds target rows whose match columns equal the given normalised values. */
  async findMatches(candidates: string[][]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (candidates.length === 0) return found;
    const expressions = this.plan.match.map((m) => normaliseSql(`t.${ident(m.target)}::text`, m.normalize));
    const tuples = candidates.map((c) => `(${c.map((v) => literal(v)).join(', ')})`).join(', ');
    const result = await this.client.query({
      text: `SELECT ${[...expressions, ...this.keyColumns.map((k) => `t.${k}::text`)].join(', ')} FROM ${this.table} t WHERE (${expressions.join(', ')}) IN (VALUES ${tuples})`,
      rowMode: 'array',
    });
    const width = expressions.length;
    for (const row of result.rows as string[][]) {
      const matchKey = row.slice(0, width).join('\u0001');
      if (!found.has(matchKey)) found.set(matchKey, row.slice(width));
    }
    return found;
  }
}

/** The ends of one-part integer keys that are distinct and contiguous (as a sequence hands them out), else undefined. */
function integerRun(keys: string[][]): [string, string] | undefined {
  let low = Infinity;
  let high = -Infinity;
  const seen = new Set<number>();
  for (const key of keys) {
    const value = Number(key[0]);
    if (!Number.isSafeInteger(value) || seen.has(value)) return undefined;
    seen.add(value);
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return keys.length > 0 && high - low + 1 === keys.length ? [String(low), String(high)] : undefined;
}

function describeConstraintError(error: Error): string {
  const pgError = error as Error & { constraint?: string; detail?: string };
  const parts = [pgError.message];
  if (pgError.detail) parts.push(pgError.detail);
  return parts.join(': ');
}

/** Adds a row's key fields to a COPY line; `last`: they end the line (a row without values). */
function addKey(data: CopyData, key: string[], last: boolean): void {
  for (let i = 0; i < key.length; i++) data.field(key[i]!, last && i === key.length - 1);
}

/** Adds key `i` of a flat list as the last fields of a COPY line. */
function addDrawnKey(data: CopyData, keys: DrawnKeyList, i: number): void {
  const { columns, values } = keys;
  for (let c = 0; c < columns; c++) data.field(values[columns * i + c]!, c === columns - 1);
}

/** Adds a row's values to a COPY line, the last one ending it. */
function addValues(data: CopyData, values: (string | null)[]): void {
  for (let i = 0; i < values.length; i++) data.field(values[i]!, i === values.length - 1);
}
