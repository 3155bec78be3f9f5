import type mysql from 'mysql2';
import { Readable } from 'node:stream';
import type { Row } from '../../engine/connector.js';
import { describeQueryError } from './connect.js';
import type { Sql } from './sql.js';

/** Rows buffered ahead of the consumer before the socket is paused (backpressure). */
const STREAM_BUFFER = 2_000;

function cell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

function toRow(value: unknown): Row {
  return Array.isArray(value) ? value.map(cell) : [];
}

function insertId(result: unknown): string {
  if (!result || typeof result !== 'object' || !('insertId' in result)) return '0';
  return typeof result.insertId === 'number' || typeof result.insertId === 'string' ? String(result.insertId) : '0';
}

function warnings(result: unknown): number {
  if (result && typeof result === 'object' && 'warningStatus' in result && typeof result.warningStatus === 'number') return result.warningStatus;
  return 0;
}

function affected(result: unknown): number {
  if (result && typeof result === 'object' && 'affectedRows' in result && typeof result.affectedRows === 'number') return result.affectedRows;
  return 0;
}

/**
 * One connection's statements. Statements with values are prepared (values travel as bind
 * parameters, never in the SQL text); every selected column is rendered as text by the SQL itself,
 * so rows arrive as strings and nulls.
 */
export class Db {
  /** Whether a unit of work is open (savepoints are possible); kept by the session. */
  inTransaction = false;

  constructor(
    readonly connection: mysql.Connection,
    private readonly describe: (error: unknown) => unknown,
  ) {}

  private fail(error: unknown): never {
    throw this.describe(error);
  }

  /** A statement without result rows; returns the affected row count. */
  async run(statement: Sql | string): Promise<number> {
    const { text, values } = typeof statement === 'string' ? { text: statement, values: [] } : statement;
    try {
      const [result] = values.length === 0 ? await this.connection.promise().query(text) : await this.connection.promise().execute(text, values);
      return affected(result);
    } catch (error) {
      this.fail(error);
    }
  }

  /** An INSERT of one row; returns the AUTO_INCREMENT id it got ('0' when none). */
  async insert(statement: Sql): Promise<string> {
    try {
      const [result] = await this.connection.promise().execute(statement.text, statement.values);
      return insertId(result);
    } catch (error) {
      this.fail(error);
    }
  }

  async rows(statement: Sql): Promise<Row[]> {
    try {
      const [result] = await this.connection.promise().execute({ sql: statement.text, rowsAsArray: true }, statement.values);
      return Array.isArray(result) ? result.map(toRow) : [];
    } catch (error) {
      this.fail(error);
    }
  }

  /** Streams a result with backpressure; leaving early drains the rest so the connection stays usable. */
  async *stream(statement: Sql): AsyncGenerator<Row> {
    const buffer: Row[] = [];
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    let paused = false;
    let discard = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const command = this.connection.execute({ sql: statement.text, rowsAsArray: true }, statement.values);
    command.on('result', (row: unknown) => {
      if (discard) return;
      buffer.push(toRow(row));
      if (buffer.length >= STREAM_BUFFER && !paused) {
        paused = true;
        this.connection.pause();
      }
      notify();
    });
    const fail = (error: unknown) => {
      failure = error;
      done = true;
      notify();
    };
    command.on('error', fail);
    // A command without a callback does not hear of a lost connection: mysql2 tells the connection.
    this.connection.on('error', fail);
    command.on('end', () => {
      done = true;
      notify();
    });
    try {
      for (;;) {
        if (buffer.length > 0) {
          const row = buffer.shift()!;
          if (paused && buffer.length < STREAM_BUFFER / 2) {
            paused = false;
            this.connection.resume();
          }
          yield row;
          continue;
        }
        if (failure) this.fail(failure);
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.connection.off('error', fail);
      if (!done) {
        discard = true;
        buffer.length = 0;
        const ended = new Promise<void>((resolve) => {
          command.once('end', () => resolve());
          command.once('error', () => resolve());
        });
        if (paused) this.connection.resume();
        await ended;
      }
    }
  }

  /** `LOAD DATA LOCAL INFILE` from memory (the statement names the file `ferry`); returns the server's warning count. */
  async load(text: string, data: Buffer): Promise<number> {
    try {
      const [result] = await this.connection.promise().query({ sql: text, infileStreamFactory: () => Readable.from([data]) });
      return warnings(result);
    } catch (error) {
      this.fail(error);
    }
  }
}

export function openDb(connection: mysql.Connection, what: string, url: string): Db {
  return new Db(connection, (error) => describeQueryError(what, url, error));
}
