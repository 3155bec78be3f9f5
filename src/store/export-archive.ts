import type { StateClient } from './state-connection.js';

/**
 * The archive of created export files (`ferry.export_files`, and for the DB archive their bytes in
 * `ferry.export_file_chunks`). A file row stays as history after its content passed its retention.
 */

/** Where a file's bytes live when they are kept in the state DB (else the path of the archive file). */
export const DB_LOCATION = 'db';

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
  /** `db` (chunks in ferry.export_file_chunks) or the archive path. */
  location: string;
  createdAt: Date;
  purgedAt: Date | null;
}

/** An archived file from its `ferry.export_files` row. */
export function archivedFileFromRow(r: Record<string, unknown>): ArchivedFile {
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

export type NewArchivedFile = Pick<ArchivedFile, 'id' | 'runId' | 'flow' | 'entity' | 'part' | 'name'>;

/**
 * Records a file being written: no size or checksum yet (readers skip it), `location` is
 * DB_LOCATION or a placeholder until `recordFileWritten`. Chunks reference this row.
 */
export async function recordFileStarted(client: StateClient, file: NewArchivedFile, location: string, retentionDays: number): Promise<void> {
  await client.query(
    `INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, 0, 0, '', $7, now() + make_interval(days => $8))`,
    [file.id, file.runId, file.flow, file.entity, file.part, file.name, location, retentionDays],
  );
}

/** Appends chunk `seq` of a file kept in the DB archive. */
export async function writeFileChunk(client: StateClient, fileId: string, seq: number, data: Buffer): Promise<void> {
  await client.query(`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ($1, $2, $3)`, [fileId, seq, data]);
}

export async function recordFileWritten(
  client: StateClient,
  fileId: string,
  written: { rows: number; bytes: number; sha256: string; location: string },
): Promise<void> {
  await client.query(`UPDATE ferry.export_files SET rows = $2, bytes = $3, sha256 = $4, location = $5 WHERE id = $1`, [
    fileId,
    written.rows,
    written.bytes,
    written.sha256,
    written.location,
  ]);
}

/** The files a run created, in entity and part order. */
export async function filesOfRun(client: StateClient, runId: string): Promise<ArchivedFile[]> {
  const result = await client.query(`SELECT * FROM ferry.export_files WHERE run_id = $1 ORDER BY entity, part`, [runId]);
  return result.rows.map(archivedFileFromRow);
}

/** This flow's files past their retention whose content is still kept. */
export async function expiredFiles(client: StateClient, flow: string): Promise<Pick<ArchivedFile, 'id' | 'location'>[]> {
  const result = await client.query<{ id: string; location: string }>(
    `SELECT id, location FROM ferry.export_files WHERE flow = $1 AND purged_at IS NULL AND expires_at < now()`,
    [flow],
  );
  return result.rows;
}

/** Drops a file's content from the DB archive (if it is kept there) and marks it purged; its row stays as history. */
export async function recordFilePurged(client: StateClient, file: Pick<ArchivedFile, 'id' | 'location'>): Promise<void> {
  if (file.location === DB_LOCATION) await client.query(`DELETE FROM ferry.export_file_chunks WHERE file_id = $1`, [file.id]);
  await client.query(`UPDATE ferry.export_files SET purged_at = now() WHERE id = $1`, [file.id]);
}
