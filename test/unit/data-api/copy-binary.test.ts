import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyBinaryValues } from '../../../src/store/copy-binary.js';

/** A one-column COPY binary stream as PostgreSQL writes it (header, rows, trailer). */
function copyStream(values: Buffer[]): Buffer {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])]);
  const rows = values.map((v) => {
    const frame = Buffer.alloc(6);
    frame.writeInt16BE(1, 0);
    frame.writeInt32BE(v.length, 2);
    return Buffer.concat([frame, v]);
  });
  return Buffer.concat([header, ...rows, Buffer.from([0xff, 0xff])]);
}

async function strip(stream: Buffer, chunkSize: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  for await (const piece of Readable.from(chunks).pipe(new CopyBinaryValues())) out.push(piece as Buffer);
  return Buffer.concat(out);
}

describe('COPY binary framing', () => {
  it('passes the values through, whatever the chunk boundaries', async () => {
    const values = [Buffer.from('first chunk '), Buffer.alloc(0), Buffer.from([0, 255, 13, 10, 0]), Buffer.from('x'.repeat(1000))];
    for (const size of [1, 3, 7, 64, 100_000]) expect((await strip(copyStream(values), size)).equals(Buffer.concat(values))).toBe(true);
  });

  it('refuses a truncated stream and a foreign one', async () => {
    const whole = copyStream([Buffer.from('abc')]);
    await expect(strip(whole.subarray(0, whole.length - 2), 4)).rejects.toThrow(/ended early/);
    await expect(strip(Buffer.from('not a copy stream at all'), 8)).rejects.toThrow(/not a COPY binary stream/);
  });
});
