import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { IN_CHUNKS, type ChunkedIterable } from './batches.js';
import { unescapeCopyField } from './copy-text.js';
import type { Row } from '../engine/connector.js';

export type { Row };

const NEWLINE = 0x0a;

/**
 * Streams the rows of `COPY (query) TO STDOUT` without holding more than one chunk in memory.
 * Async iteration gives backpressure: the socket is paused while the consumer is busy.
 *
 * Each line is decoded on its own from the chunk's bytes (a newline byte is never part of a UTF-8
 * character): a value sliced out of a string of the whole chunk would keep that chunk alive for as
 * long as the value is kept, so a caller keeping a few values per chunk (vanished pairs, a batch of
 * writes) would hold the whole stream.
 *
 * The rows of a chunk are parsed together and handed out one by one without a generator step per
 * row (a join reads millions of them; each step of an async generator costs several promise turns).
 * A consumer that takes them a chunk at a time (`chunksOf`) gets the parsed arrays themselves.
 */
export function copyOutRows(client: pg.ClientBase, query: string | (() => Promise<string>)): AsyncGenerator<Row> & ChunkedIterable<Row> {
  return new RowsOfChunks(copyOutChunks(client, query));
}

/**
 * The rows of `COPY (query) TO STDOUT`, those of each chunk the socket gives in one array (see
 * copyOutRows). A query still to be made (one that looks something up first) is made when the rows are first asked for.
 */
async function* copyOutChunks(client: pg.ClientBase, query: string | (() => Promise<string>)): AsyncGenerator<Row[]> {
  const stream = client.query(copyTo(`COPY (${typeof query === 'string' ? query : await query()}) TO STDOUT`));
  let complete = false;
  try {
    yield* chunkRows(stream.iterator({ destroyOnReturn: false }));
    complete = true;
  } finally {
    // A consumer that stopped early: the rest is read and dropped. A COPY left half-read holds the
    // connection (its socket paused mid-COPY), so its next statement would never be answered.
    if (!complete) await finished(stream.resume()).catch(() => {});
  }
}

/** The rows of the COPY's chunks, those of each chunk in one array. */
async function* chunkRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<Row[]> {
  /** The bytes of the line not yet ended, from earlier chunks. */
  const unfinished: Buffer[] = [];
  for await (const chunk of chunks) {
    let newline = chunk.indexOf(NEWLINE);
    if (newline === -1) {
      unfinished.push(chunk);
      continue;
    }
    const rows: Row[] = [];
    let start = 0;
    if (unfinished.length > 0) {
      unfinished.push(chunk.subarray(0, newline));
      rows.push(parseLine(Buffer.concat(unfinished).toString('utf8')));
      unfinished.length = 0;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      rows.push(parseLine(chunk.toString('utf8', start, newline)));
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) unfinished.push(chunk.subarray(start));
    yield rows;
  }
  if (unfinished.length > 0) yield [parseLine(Buffer.concat(unfinished).toString('utf8'))];
}

/** The values of one COPY text line (without its line end). */
export function parseLine(line: string): Row {
  const row: Row = line.split('\t');
  // Without a backslash (most lines) no field is escaped or null: the split fields are the values.
  if (line.indexOf('\\') === -1) return row;
  for (let i = 0; i < row.length; i++) row[i] = unescapeCopyField(row[i] as string);
  return row;
}

/**
 * The rows of a generator of row arrays, one at a time, as an async generator would give them:
 * `return` and `throw` go to the arrays' generator (which ends the COPY), a failure comes out of the
 * `next` that reaches it, and calls made before an earlier one settled are answered in order.
 */
class RowsOfChunks implements AsyncGenerator<Row>, ChunkedIterable<Row> {
  private rows: Row[] = [];
  private at = 0;
  private finished = false;
  /** The arrays' generator's step under way, if any. */
  private pending?: Promise<void>;

  constructor(private readonly chunks: AsyncGenerator<Row[]>) {}

  next(): Promise<IteratorResult<Row>> {
    if (this.pending) return this.pending.then(() => this.next());
    if (this.at < this.rows.length) return Promise.resolve({ value: this.rows[this.at++]!, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    this.rows = [];
    this.at = 0;
    this.pending = this.chunks.next().then(
      (step) => {
        this.pending = undefined;
        if (step.done) this.finished = true;
        else this.rows = step.value;
      },
      (error: unknown) => {
        this.pending = undefined;
        this.finished = true;
        throw error;
      },
    );
    return this.pending.then(() => this.next());
  }

  async return(value?: unknown): Promise<IteratorResult<Row>> {
    await this.pending?.catch(() => {});
    this.finished = true;
    this.rows = [];
    await this.chunks.return(undefined);
    return { value: value as Row, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<Row>> {
    await this.pending?.catch(() => {});
    this.finished = true;
    this.rows = [];
    await this.chunks.throw(error);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncGenerator<Row> {
    return this;
  }

  /** The rows not yet taken, in the parsed chunks' arrays (the rest of one taken from, then whole ones). */
  [IN_CHUNKS](): AsyncGenerator<Row[]> {
    return this.remainingChunks();
  }

  private async *remainingChunks(): AsyncGenerator<Row[]> {
    let complete = false;
    try {
      for (;;) {
        if (this.pending) await this.pending;
        if (this.at < this.rows.length) {
          const rows = this.at === 0 ? this.rows : this.rows.slice(this.at);
          this.rows = [];
          this.at = 0;
          yield rows;
          continue;
        }
        if (this.finished) break;
        const step = await this.chunks.next();
        if (step.done) this.finished = true;
        else this.rows = step.value;
      }
      complete = true;
    } finally {
      // Stopped early or failed: the COPY is ended as `return` ends it.
      if (!complete) await this.return();
    }
  }
}
