import type { StateDb } from './state-connection.js';

// The files a files source has seen (`ferry.source_files`): which were imported, which failed and why.

export type SourceFileStatus = 'pending' | 'imported' | 'failed';

export interface SourceFileRecord {
  id: number;
  entity: string;
  name: string;
  sha256: string;
  size: number;
  modifiedAt: Date;
  path: string;
  status: SourceFileStatus;
  reason: string | null;
  importedAt: Date | null;
}

const COLUMNS = `id, entity, name, sha256, size, modified_at, path, status, reason, imported_at`;

interface RawRecord {
  id: string;
  entity: string;
  name: string;
  sha256: string;
  size: string;
  modified_at: Date;
  path: string;
  status: SourceFileStatus;
  reason: string | null;
  imported_at: Date | null;
}

function record(row: RawRecord): SourceFileRecord {
  return {
    id: Number(row.id),
    entity: row.entity,
    name: row.name,
    sha256: row.sha256,
    size: Number(row.size),
    modifiedAt: row.modified_at,
    path: row.path,
    status: row.status,
    reason: row.reason,
    importedAt: row.imported_at,
  };
}

/** Every file seen for a flow (one entity, or all), in the order they are applied. */
export async function sourceFiles(db: StateDb, flow: string, entity?: string): Promise<SourceFileRecord[]> {
  const result = await db.query<RawRecord>(
    `SELECT ${COLUMNS} FROM ferry.source_files WHERE flow = $1 AND ($2::text IS NULL OR entity = $2) ORDER BY entity, id`,
    [flow, entity ?? null],
  );
  return result.rows.map(record);
}

/**
 * Remembers a file about to be imported (status pending) and returns its record; a file with the
 * same name and content seen before keeps its record (and its place in the order).
 */
export async function rememberFile(
  db: StateDb,
  file: { flow: string; entity: string; name: string; sha256: string; size: number; modifiedAt: Date; path: string; runId: string },
): Promise<SourceFileRecord> {
  const result = await db.query<RawRecord>(
    `INSERT INTO ferry.source_files (flow, entity, name, sha256, size, modified_at, path, status, run_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)
     ON CONFLICT (flow, entity, name, sha256) DO UPDATE SET size = EXCLUDED.size, modified_at = EXCLUDED.modified_at, path = EXCLUDED.path
     RETURNING ${COLUMNS}`,
    [file.flow, file.entity, file.name, file.sha256, file.size, file.modifiedAt, file.path, file.runId],
  );
  return record(result.rows[0]!);
}

export async function markFilesImported(db: StateDb, ids: number[], runId: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`UPDATE ferry.source_files SET status = 'imported', reason = NULL, run_id = $2, imported_at = now() WHERE id = ANY($1::bigint[])`, [ids, runId]);
}

export async function markFileFailed(db: StateDb, id: number, reason: string, runId: string): Promise<void> {
  await db.query(`UPDATE ferry.source_files SET status = 'failed', reason = $2, run_id = $3 WHERE id = $1`, [id, reason, runId]);
}

export async function recordFileMoved(db: StateDb, id: number, path: string): Promise<void> {
  await db.query(`UPDATE ferry.source_files SET path = $2 WHERE id = $1`, [id, path]);
}

/**
 * An explicit re-import: the named file's records are forgotten, so the next run takes it again as
 * a new file (after every file seen so far). Returns how many records were forgotten.
 */
export async function forgetFile(db: StateDb, flow: string, name: string): Promise<number> {
  const result = await db.query(`DELETE FROM ferry.source_files WHERE flow = $1 AND name = $2`, [flow, name]);
  return result.rowCount ?? 0;
}
