import { Transform, type TransformCallback } from 'node:stream';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The values of a one-column `COPY … TO STDOUT (FORMAT binary)`, concatenated: the framing (header,
 * per-row field count and length, trailer) is stripped and the bytes pass through without a copy.
 * This is how an archived export file is read at the speed of `psql \copy`.
 */
export class CopyBinaryValues extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private state: 'header' | 'row' | 'length' | 'data' | 'done' = 'header';
  private remaining = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === 'done' ? null : new Error(`COPY binary stream ended early (in ${this.state})`));
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    const available = () => buf.length - pos;
    for (;;) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, available());
        if (n > 0) this.push(buf.subarray(pos, pos + n));
        pos += n;
        this.remaining -= n;
        if (this.remaining > 0) break;
        this.state = 'row';
      } else if (this.state === 'header') {
        if (available() < 19) break;
        if (!buf.subarray(pos, pos + 11).equals(SIGNATURE)) throw new Error('not a COPY binary stream');
        const extension = buf.readInt32BE(pos + 15);
        if (available() < 19 + extension) break;
        pos += 19 + extension;
        this.state = 'row';
      } else if (this.state === 'row') {
        if (available() < 2) break;
        const fields = buf.readInt16BE(pos);
        pos += 2;
        if (fields === -1) {
          this.state = 'done';
          break;
        }
        if (fields !== 1) throw new Error(`COPY binary row with ${fields} fields, expected 1`);
        this.state = 'length';
      } else if (this.state === 'length') {
        if (available() < 4) break;
        const length = buf.readInt32BE(pos);
        pos += 4;
        if (length < 0) throw new Error('COPY binary row with a NULL value');
        this.remaining = length;
        this.state = 'data';
      } else {
        break;
      }
    }
    // Only framing bytes are ever left over (a few bytes); data always passes through.
    this.pending = Buffer.from(buf.subarray(pos));
  }
}
