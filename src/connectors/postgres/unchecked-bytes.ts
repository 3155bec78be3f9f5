import type pg from 'pg';
import { withProblem, type Row, type RowProblem } from '../../engine/connector.js';

/**
 * A SQL_ASCII database stores any bytes, and one value that is not UTF-8 fails a whole statement
 * without naming its row. There every value is read as the hex of its bytes and decoded here, and a
 * row with a value that is not UTF-8 is marked for rejection (engine/connector.ts withProblem).
 */

const uncheckedBytes = new WeakMap<pg.ClientBase, Promise<boolean>>();

/** Whether the server keeps text as unchecked bytes (server_encoding SQL_ASCII); asked once per connection. */
export function storesUncheckedBytes(client: pg.ClientBase): Promise<boolean> {
  let known = uncheckedBytes.get(client);
  if (!known) {
    known = client.query('SHOW server_encoding').then((r) => r.rows[0].server_encoding === 'SQL_ASCII');
    uncheckedBytes.set(client, known);
  }
  return known;
}

/** The query's `width` columns, each as the hex of its bytes (NULL stays NULL). */
export function asHex(query: string, width: number): string {
  const aliases = Array.from({ length: width }, (_, i) => `c${i}`);
  // format('%s') writes a value as its type's output function does, as COPY would (a boolean as t, not true).
  const hex = aliases.map((a) => `CASE WHEN q.${a} IS NULL THEN NULL ELSE encode(convert_to(format('%s', q.${a}), 'SQL_ASCII'), 'hex') END`);
  return `SELECT ${hex.join(', ')} FROM (${query}) AS q(${aliases.join(', ')})`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** A row of hex-encoded values as text; the first value that is not UTF-8 marks the row (it is kept, with U+FFFD). */
export function decodeUtf8Row(encoded: Row, names: string[]): Row {
  let problem: RowProblem | undefined;
  const row = encoded.map((hex, i) => {
    if (hex === null) return null;
    const bytes = Buffer.from(hex, 'hex');
    try {
      return strictUtf8.decode(bytes);
    } catch {
      problem ??= { column: names[i]!, reason: 'holds bytes that are not valid UTF-8 (the database is SQL_ASCII)' };
      return lenientUtf8.decode(bytes);
    }
  });
  return problem ? withProblem(row, problem) : row;
}
