import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { FerryError } from '../util/errors.js';
import { filesOfRun, readArchivedFile, type ArchivedFile } from './archive.js';

/** One past export instance, as the dashboard of `ferry exports` shows it. */
export interface ExportInstance {
  runId: string;
  mode: string;
  sourceRunId: string | null;
  createdAt: Date;
  creationStatus: string;
  transferStatus: string;
  files: number;
  rows: number;
  bytes: number;
  transfers: { target: string; file: string; status: string; reason: string | null; message: string | null; remotePath: string | null; bytes: number | null; attempts: number }[];
}

export async function listExportInstances(pool: pg.Pool, flow: string, limit = 50): Promise<ExportInstance[]> {
  const runs = await pool.query(
    `SELECT run_id, mode, source_run_id, created_at, creation_status, transfer_status, files, rows, bytes
       FROM ferry.export_runs WHERE flow = $1 ORDER BY created_at DESC LIMIT $2`,
    [flow, limit],
  );
  const ids = runs.rows.map((r) => r.run_id as string);
  const transfers = await pool.query(
    `SELECT t.run_id, t.target, f.name AS file, t.status, t.reason, t.message, t.remote_path, t.bytes, t.attempts
       FROM ferry.export_transfers t JOIN ferry.export_files f ON f.id = t.file_id
      WHERE t.run_id = ANY($1) ORDER BY t.target, f.entity, f.part`,
    [ids],
  );
  return runs.rows.map((r) => ({
    runId: r.run_id,
    mode: r.mode,
    sourceRunId: r.source_run_id,
    createdAt: r.created_at,
    creationStatus: r.creation_status,
    transferStatus: r.transfer_status,
    files: Number(r.files),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    transfers: transfers.rows
      .filter((t) => t.run_id === r.run_id)
      .map((t) => ({
        target: t.target,
        file: t.file,
        status: t.status,
        reason: t.reason,
        message: t.message,
        remotePath: t.remote_path,
        bytes: t.bytes === null ? null : Number(t.bytes),
        attempts: Number(t.attempts),
      })),
  }));
}

/** The files a run created, or for a re-transfer the files of the run it re-sent. */
export async function archivedFilesOf(pool: pg.Pool, runId: string): Promise<ArchivedFile[]> {
  const client = await pool.connect();
  try {
    const own = await filesOfRun(client, runId);
    if (own.length > 0) return own;
    const source = await client.query(`SELECT source_run_id FROM ferry.export_runs WHERE run_id = $1`, [runId]);
    const sourceRunId = source.rows[0]?.source_run_id as string | undefined;
    return sourceRunId ? await filesOfRun(client, sourceRunId) : [];
  } finally {
    client.release();
  }
}

/** Writes an archived file out, checking its SHA-256 on the way. */
export async function downloadArchivedFile(pool: pg.Pool, file: ArchivedFile, path: string): Promise<void> {
  if (file.purgedAt) throw new FerryError(`${file.name} was removed from the archive on ${file.purgedAt.toISOString()} (retention)`, 1);
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(readArchivedFile(pool, file), check, createWriteStream(path));
  if (hash.digest('hex') !== file.sha256) throw new FerryError(`${file.name}: archived content does not match its recorded SHA-256`, 1);
}

/** One file: written to `output`. Several: written into the directory `output`. Returns the paths written. */
export async function downloadRun(pool: pg.Pool, runId: string, output: string, only?: string): Promise<string[]> {
  let files = await archivedFilesOf(pool, runId);
  if (files.length === 0) throw new FerryError(`run ${runId} has no archived export files`, 2);
  if (only) {
    files = files.filter((f) => f.name === only);
    if (files.length === 0) throw new FerryError(`run ${runId} has no file named ${only}`, 2);
  }
  if (files.length === 1) {
    await downloadArchivedFile(pool, files[0], output);
    return [output];
  }
  await mkdir(output, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    const path = join(output, file.name);
    await downloadArchivedFile(pool, file, path);
    written.push(path);
  }
  return written;
}
