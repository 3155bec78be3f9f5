import type { Socket } from 'node:net';
import type pg from 'pg';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
/** The largest CopyData message sent by default: far below the server's 1 GB message limit. */
const MAX_MESSAGE = 64 * 1024 * 1024;

/** The part of node-pg's connection a submittable query writes to. */
interface Connection {
  stream: Socket;
  query(text: string): void;
}

/**
 * Runs a query string holding one `COPY ... FROM STDIN` (alone, or among other statements) with
 * `data` as the COPY's input, in one round trip: the query, the data and its end are written at
 * once, without waiting for the server's CopyInResponse (pg-copy-streams waits for it, which costs
 * a round trip per COPY, and one more for each statement sent on its own around it). Resolves with
 * the statements' command tags in order (`COPY n` for the COPY); a failure rejects with the
 * server's error as it is (its fields name the line and column of a bad row).
 *
 * A failure loses nothing that follows: the server answers it with ReadyForQuery and then ignores
 * the COPY messages it reads outside a COPY (the protocol says it must: a client may still be
 * sending the data of a COPY that failed), and the client's next statement is written after them.
 *
 * Options: `tags` receives the command tags as the statements complete (after a failure, those
 * before the failed statement); `maxMessage` is the largest CopyData message sent.
 */
export function copyIn(client: pg.ClientBase, text: string, data: Buffer, options: { tags?: string[]; maxMessage?: number } = {}): Promise<string[]> {
  const { tags = [], maxMessage = MAX_MESSAGE } = options;
  return new Promise<string[]>((resolve, reject) => {
    let settled = false;
    const query = {
      submit(connection: Connection): void {
        const stream = connection.stream;
        // One write for the whole (the socket sends corked writes together).
        stream.cork();
        connection.query(text);
        for (let at = 0; at < data.length; at += maxMessage) {
          const piece = data.subarray(at, Math.min(data.length, at + maxMessage));
          const header = Buffer.allocUnsafe(5);
          header[0] = COPY_DATA;
          header.writeUInt32BE(piece.length + 4, 1);
          stream.write(header);
          stream.write(piece);
        }
        stream.write(Buffer.from([COPY_DONE, 0, 0, 0, 4]));
        stream.uncork();
      },
      handleCopyInResponse(): void {}, // the data went with the query
      handleCommandComplete(message: { text: string }): void {
        tags.push(message.text);
      },
      handleEmptyQuery(): void {},
      handleRowDescription(): void {},
      handleDataRow(): void {},
      // node-pg calls this for the server's error and for a lost connection, and then not handleReadyForQuery.
      handleError(error: Error): void {
        if (settled) return;
        settled = true;
        reject(error);
      },
      handleReadyForQuery(): void {
        if (settled) return;
        settled = true;
        resolve(tags);
      },
    };
    client.query(query as unknown as pg.Submittable);
  });
}
