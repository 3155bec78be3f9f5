import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { Compression } from '../api/export-settings.js';
import { ArchiveWriter, type ArchivedFile, type ArchiveOptions } from './archive.js';
import { compressStream } from './compress.js';
import { encryptStream, type EncryptionKeys } from './encrypt.js';

const WRITE_BUFFER = 256 * 1024;

export interface FileSpec {
  runId: string;
  flow: string;
  entity: string;
  part: number;
  /** Final file name, with all extensions. */
  name: string;
  /** Name of the entry inside a zip file (the name before .zip). */
  entryName: string;
}

/**
 * One export file being written: text -> compression -> encryption -> SHA-256/size -> archive.
 * Writes wait for the slowest stage, so memory stays bounded whatever the size.
 */
export class FileWriter {
  rows = 0;
  plainBytes = 0;

  private constructor(
    private readonly plain: PassThrough,
    private readonly archive: ArchiveWriter,
    private readonly done: Promise<void>,
    private readonly stats: { bytes: number; hash: ReturnType<typeof createHash> },
  ) {}

  static async open(
    state: pg.ClientBase,
    spec: FileSpec,
    options: { compression: Compression; encryption?: EncryptionKeys; archive: ArchiveOptions },
  ): Promise<FileWriter> {
    const archive = await ArchiveWriter.open(state, { id: randomUUID(), ...spec }, options.archive);
    const plain = new PassThrough({ highWaterMark: WRITE_BUFFER });
    let stream: Readable = compressStream(plain, options.compression, spec.entryName);
    if (options.encryption) stream = await encryptStream(stream, options.encryption);
    const stats = { bytes: 0, hash: createHash('sha256') };
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        stats.bytes += chunk.length;
        stats.hash.update(chunk);
        callback(null, chunk);
      },
    });
    const done = pipeline(stream, measure, archive.sink);
    // Observed by write()/finish(); this keeps an early failure from being reported as unhandled.
    done.catch(() => {});
    return new FileWriter(plain, archive, done, stats);
  }

  /** Appends bytes holding `rows` complete records (0 for a header or a partial record). */
  async write(data: Buffer | string, rows: number): Promise<void> {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (chunk.length === 0) return;
    this.rows += rows;
    this.plainBytes += chunk.length;
    if (!this.plain.write(chunk)) await Promise.race([once(this.plain, 'drain'), this.done]);
  }

  async finish(): Promise<ArchivedFile> {
    this.plain.end();
    await this.done;
    return this.archive.finish({ rows: this.rows, bytes: this.stats.bytes, sha256: this.stats.hash.digest('hex') });
  }

  async abort(error: Error): Promise<void> {
    this.plain.destroy(error);
    await this.done.catch(() => {});
    await this.archive.discard();
  }
}
