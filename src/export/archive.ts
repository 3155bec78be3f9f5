import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type pg from 'pg';

/**
 * Created export files are archived in the state DB (1 MiB chunks) or in a directory, so a past
 * instance can be downloaded and re-transferred byte for byte until its retention ends.
 */
export const DB_LOCATION = 'db';
const CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_RETENTION_DAYS = 30;

export interface ArchivedFile {
  id: string;
  runId: string;
  flow: string;
  entity: string;
  part: number;
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
  location: string;
  createdAt: Date;
  purgedAt: Date | null;
}

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
    private readonly client: pg.ClientBase,
    private readonly file: { id: string; runId: string; flow: string; entity: string; part: number; name: string },
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

  static async open(client: pg.ClientBase, file: ArchiveWriter['file'], options: ArchiveOptions): Promise<ArchiveWriter> {
    if (options.directory) await mkdir(resolve(options.directory, flowDirectory(file.flow), file.runId), { recursive: true });
    // The file row comes first: chunks reference it. It stays invisible until the caller commits.
    await client.query(
      `INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, 0, 0, '', $7, now() + make_interval(days => $8))`,
      [file.id, file.runId, file.flow, file.entity, file.part, file.name, options.directory ? 'pending' : DB_LOCATION, options.retentionDays],
    );
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
      await this.client.query(`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ($1, $2, $3)`, [this.file.id, seq++, data]);
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
    await this.client.query(`UPDATE ferry.export_files SET rows = $2, bytes = $3, sha256 = $4, location = $5 WHERE id = $1`, [
      this.file.id,
      stats.rows,
      stats.bytes,
      stats.sha256,
      this.location,
    ]);
    return { ...this.file, ...stats, location: this.location, createdAt: new Date(), purgedAt: null };
  }

  async discard(): Promise<void> {
    if (this.partPath) await rm(this.partPath, { force: true });
  }
}

function fileFromRow(r: Record<string, unknown>): ArchivedFile {
  return {
    id: r.id as string,
    runId: r.run_id as string,
    flow: r.flow as string,
    entity: r.entity as string,
    part: Number(r.part),
    name: r.name as string,
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    sha256: r.sha256 as string,
    location: r.location as string,
    createdAt: r.created_at as Date,
    purgedAt: (r.purged_at as Date | null) ?? null,
  };
}

export async function filesOfRun(client: pg.ClientBase, runId: string): Promise<ArchivedFile[]> {
  const result = await client.query(`SELECT * FROM ferry.export_files WHERE run_id = $1 ORDER BY entity, part`, [runId]);
  return result.rows.map(fileFromRow);
}

/** Streams an archived file. For the DB archive it reads one chunk at a time on a client from the pool. */
export function readArchivedFile(pool: pg.Pool, file: ArchivedFile): Readable {
  if (file.location !== DB_LOCATION) return createReadStream(file.location);
  async function* chunks() {
    const client = await pool.connect();
    try {
      for (let seq = 0; ; seq++) {
        const result = await client.query(`SELECT data FROM ferry.export_file_chunks WHERE file_id = $1 AND seq = $2`, [file.id, seq]);
        if (result.rowCount === 0) return;
        yield result.rows[0].data as Buffer;
      }
    } finally {
      client.release();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Removes the content of this flow's files past their retention; the rows stay as history. */
export async function purgeExpired(client: pg.ClientBase, flow: string): Promise<number> {
  const expired = await client.query(
    `SELECT id, location FROM ferry.export_files WHERE flow = $1 AND purged_at IS NULL AND expires_at < now()`,
    [flow],
  );
  for (const row of expired.rows) {
    if (row.location === DB_LOCATION) await client.query(`DELETE FROM ferry.export_file_chunks WHERE file_id = $1`, [row.id]);
    else await rm(row.location, { force: true });
    await client.query(`UPDATE ferry.export_files SET purged_at = now() WHERE id = $1`, [row.id]);
  }
  return expired.rowCount ?? 0;
}

