import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
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
 */
export async function* copyOutRows(client: pg.ClientBase, query: string): AsyncGenerator<Row> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
  /** The bytes of the line not yet ended, from earlier chunks. */
  const unfinished: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let newline = chunk.indexOf(NEWLINE);
    if (newline === -1) {
      unfinished.push(chunk);
      continue;
    }
    let start = 0;
    if (unfinished.length > 0) {
      unfinished.push(chunk.subarray(0, newline));
      yield parseLine(Buffer.concat(unfinished).toString('utf8'));
      unfinished.length = 0;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      yield parseLine(chunk.toString('utf8', start, newline));
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) unfinished.push(chunk.subarray(start));
  }
  if (unfinished.length > 0) yield parseLine(Buffer.concat(unfinished).toString('utf8'));
}

function parseLine(line: string): Row {
  const row: Row = line.split('\t');
  for (let i = 0; i < row.length; i++) row[i] = unescapeCopyField(row[i] as string);
  return row;
}
