import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import {
  DB_LOCATION,
  expiredFiles,
  recordFilePurged,
  recordFileStarted,
  recordFileWritten,
  writeFileChunk,
  type ArchivedFile,
  type NewArchivedFile,
} from '../store/export-archive.js';
import type { StateClient } from '../store/state-connection.js';

export type { ArchivedFile } from '../store/export-archive.js';

/**
 * Created export files are archived in the state DB (1 MiB chunks) or in a directory, so a past
 * instance can be downloaded and re-transferred byte for byte until its retention ends.
 */
const CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_RETENTION_DAYS = 30;

export interface ArchiveOptions {
  directory?: string;
  retentionDays: number;
}

function flowDirectory(flow: string): string {
  return flow.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Writes the bytes of one file into the archive; `finish` records the file row (inside the caller's transaction). */
export class ArchiveWriter {
  readonly sink: Writable;
  private readonly location: string;
  private readonly partPath?: string;

  constructor(
    private readonly client: StateClient,
    private readonly file: NewArchivedFile,
    private readonly options: ArchiveOptions,
  ) {
    if (options.directory) {
      this.location = resolve(options.directory, flowDirectory(file.flow), file.runId, file.name);
      this.partPath = `${this.location}.part`;
      this.sink = createWriteStream(this.partPath);
    } else {
      this.location = DB_LOCATION;
      this.sink = this.chunkWriter();
    }
  }

  static async open(client: StateClient, file: NewArchivedFile, options: ArchiveOptions): Promise<ArchiveWriter> {
    if (options.directory) await mkdir(resolve(options.directory, flowDirectory(file.flow), file.runId), { recursive: true });
    // The file row comes first: chunks reference it. It stays invisible until the caller commits.
    await recordFileStarted(client, file, options.directory ? 'pending' : DB_LOCATION, options.retentionDays);
    return new ArchiveWriter(client, file, options);
  }

  private chunkWriter(): Writable {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await writeFileChunk(this.client, this.file.id, seq++, data);
    };
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < CHUNK_BYTES) return callback();
        flush().then(() => callback(), callback);
      },
      final: (callback) => {
        flush().then(() => callback(), callback);
      },
    });
  }

  async finish(stats: { rows: number; bytes: number; sha256: string }): Promise<ArchivedFile> {
    if (this.partPath) await rename(this.partPath, this.location);
    await recordFileWritten(this.client, this.file.id, { ...stats, location: this.location });
    return { ...this.file, ...stats, location: this.location, createdAt: new Date(), purgedAt: null };
  }

  async discard(): Promise<void> {
    if (this.partPath) await rm(this.partPath, { force: true });
  }
}

/** Removes the content of this flow's files past their retention; the rows stay as history. */
export async function purgeExpired(client: StateClient, flow: string): Promise<number> {
  const expired = await expiredFiles(client, flow);
  for (const file of expired) {
    if (file.location !== DB_LOCATION) await rm(file.location, { force: true });
    await recordFilePurged(client, file);
  }
  return expired.length;
}
