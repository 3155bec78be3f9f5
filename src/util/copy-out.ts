import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { unescapeCopyField } from './copy-text.js';
import type { Row } from '../engine/connector.js';

export type { Row };


/**
 * Streams the rows of `COPY (query) TO STDOUT` without holding more than one chunk in memory.
 * Async iteration gives backpressure: the socket is paused while the consumer is busy.
 */
export async function* copyOutRows(client: pg.ClientBase, query: string): AsyncGenerator<Row> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending += decoder.write(chunk);
    let start = 0;
    let newline = pending.indexOf('\n', start);
    while (newline !== -1) {
      yield parseLine(pending.slice(start, newline));
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) yield parseLine(pending);
}

function parseLine(line: string): Row {
  const row: Row = line.split('\t');
  for (let i = 0; i < row.length; i++) row[i] = unescapeCopyField(row[i] as string);
  return row;
}
