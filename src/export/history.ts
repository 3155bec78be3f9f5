import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { FerryError } from '../util/errors.js';
import { filesOfRun, type ArchivedFile } from '../store/export-archive.js';
import { streamExportFile } from '../store/export-file-reads.js';
import { listExportRuns, readExportRunOrigin, type ExportRunRecord } from '../store/export-runs.js';
import { transfersOfRuns, type RunTransfer } from '../store/export-transfers.js';

/** One past export instance, as the dashboard of `ferry exports` shows it. */
export interface ExportInstance extends ExportRunRecord {
  transfers: Omit<RunTransfer, 'runId'>[];
}

export async function listExportInstances(pool: pg.Pool, flow: string, limit = 50): Promise<ExportInstance[]> {
  const runs = await listExportRuns(pool, flow, limit);
  const transfers = await transfersOfRuns(pool, runs.map((r) => r.runId));
  return runs.map((run) => ({
    ...run,
    transfers: transfers.filter((t) => t.runId === run.runId).map(({ runId: _runId, ...transfer }) => transfer),
  }));
}

/** The files a run created, or for a re-transfer the files of the run it re-sent. */
export async function archivedFilesOf(pool: pg.Pool, runId: string): Promise<ArchivedFile[]> {
  const client = await pool.connect();
  try {
    const own = await filesOfRun(client, runId);
    if (own.length > 0) return own;
    const sourceRunId = (await readExportRunOrigin(client, runId))?.sourceRunId;
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
  await pipeline(streamExportFile(pool, file), check, createWriteStream(path));
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
