import type mysql from 'mysql2';
import type { Row } from '../../engine/connector.js';

/** Rows buffered ahead of the consumer before the socket is paused. */
const HIGH_WATER = 2_000;

/**
 * The rows of one streaming command. The socket is paused while the consumer is `HIGH_WATER` rows
 * behind and resumed at half of that, so a table of any size costs a bounded buffer.
 */
class RowBuffer {
  private readonly rows: Row[] = [];
  private paused = false;
  private discarding = false;
  private done = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(private readonly connection: mysql.Connection) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  push(row: Row): void {
    if (this.discarding) return;
    this.rows.push(row);
    if (this.rows.length >= HIGH_WATER && !this.paused) {
      this.paused = true;
      this.connection.pause();
    }
    this.notify();
  }

  finish(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = error;
    this.settle();
    this.notify();
  }

  /** The next row, undefined at the end; throws the command's error. */
  async next(): Promise<Row | undefined> {
    for (;;) {
      const row = this.rows.shift();
      if (row) {
        if (this.paused && this.rows.length < HIGH_WATER / 2) {
          this.paused = false;
          this.connection.resume();
        }
        return row;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.done) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** A consumer that leaves early: the rest of the result is read and dropped, so the connection stays usable. */
  async drain(): Promise<void> {
    if (this.done) return;
    this.discarding = true;
    this.rows.length = 0;
    if (this.paused) this.connection.resume();
    await this.settled;
  }

  private notify(): void {
    this.wake?.();
    this.wake = undefined;
  }
}

function cell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

export function toRow(value: unknown): Row {
  return Array.isArray(value) ? value.map(cell) : [];
}

// Streams whose consumer has not finished them, per connection; see `streamLeftOpen`.
const openStreams = new WeakMap<mysql.Connection, number>();

/**
 * Whether a row stream on this connection was started and neither read to its end nor closed: its
 * consumer gave up without a word (the run failed elsewhere), and the connection stays paused
 * inside that command, so any statement queued behind it would wait forever.
 */
export function streamLeftOpen(connection: mysql.Connection): boolean {
  return (openStreams.get(connection) ?? 0) > 0;
}

/** Streams a prepared statement's rows with backpressure. */
export async function* streamRows(connection: mysql.Connection, text: string, values: (string | number | null)[]): AsyncGenerator<Row> {
  const buffer = new RowBuffer(connection);
  openStreams.set(connection, (openStreams.get(connection) ?? 0) + 1);
  const command = connection.execute({ sql: text, rowsAsArray: true }, values);
  const lost = (error: unknown) => buffer.finish(error ?? new Error('connection lost'));
  command.on('result', (row: unknown) => buffer.push(toRow(row)));
  command.on('end', () => buffer.finish());
  command.on('error', lost);
  // A command without a callback does not hear of a lost connection: mysql2 tells the connection.
  connection.on('error', lost);
  try {
    for (let row = await buffer.next(); row; row = await buffer.next()) yield row;
  } finally {
    connection.off('error', lost);
    openStreams.set(connection, (openStreams.get(connection) ?? 1) - 1);
    await buffer.drain();
  }
}
