import type mysql from 'mysql2';
import { Readable } from 'node:stream';
import type { Row } from '../../engine/connector.js';
import { describeQueryError } from './connect.js';
import { streamRows, toRow } from './row-stream.js';
import type { Sql } from './sql.js';

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
    try {
      yield* streamRows(this.connection, statement.text, statement.values);
    } catch (error) {
      this.fail(error);
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
