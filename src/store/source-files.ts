import type { StateClient, StateDb } from './state-connection.js';

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
  /** Records the file held, counted by the run that read it to its end (null: not read, e.g. a superseded snapshot). */
  rows: number | null;
  firstSeenAt: Date;
}

const COLUMNS = `id, entity, name, sha256, size, modified_at, path, status, reason, imported_at, rows, first_seen_at`;

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
  rows: string | null;
  first_seen_at: Date;
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
    rows: row.rows === null ? null : Number(row.rows),
    firstSeenAt: row.first_seen_at,
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

/** A file read to its end, with the records it held (undefined: superseded without being read). */
export interface ImportedFile {
  id: number;
  rows?: number;
}

export async function markFilesImported(db: StateDb, files: ImportedFile[], runId: string): Promise<void> {
  if (files.length === 0) return;
  await db.query(
    `UPDATE ferry.source_files f SET status = 'imported', reason = NULL, run_id = $3, imported_at = now(), rows = x.rows
       FROM unnest($1::bigint[], $2::bigint[]) AS x(id, rows) WHERE f.id = x.id`,
    [files.map((f) => f.id), files.map((f) => f.rows ?? null), runId],
  );
}

export async function markFileFailed(db: StateDb, id: number, reason: string, runId: string): Promise<void> {
  await db.query(`UPDATE ferry.source_files SET status = 'failed', reason = $2, run_id = $3 WHERE id = $1`, [id, reason, runId]);
}

export async function recordFileMoved(db: StateDb, id: number, path: string): Promise<void> {
  await db.query(`UPDATE ferry.source_files SET path = $2 WHERE id = $1`, [id, path]);
}

/**
 * A fresh place in the order of files, for a file imported again (`--reimport`): it applies after
 * every file seen so far. Nothing is recorded until `markImportedAgain`, so a failed re-import
 * leaves the file remembered as before.
 */
export async function nextFileId(db: StateDb): Promise<number> {
  const result = await db.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('ferry.source_files', 'id')) AS id`);
  return Number(result.rows[0]!.id);
}

/**
 * A re-imported file read to its end: its record moves to the place `nextFileId` gave it and
 * becomes imported by this run, in one transaction (on a client of its own).
 */
export async function markImportedAgain(db: StateClient, files: (ImportedFile & { replaces: number })[], runId: string): Promise<void> {
  if (files.length === 0) return;
  await db.query('BEGIN');
  try {
    for (const { id, replaces, rows } of files) {
      const old = await db.query<RawRecord & { flow: string; first_seen_at: Date }>(`DELETE FROM ferry.source_files WHERE id = $1 RETURNING *`, [replaces]);
      const was = old.rows[0];
      if (!was) continue;
      await db.query(
        `INSERT INTO ferry.source_files (id, flow, entity, name, sha256, size, modified_at, path, status, run_id, first_seen_at, imported_at, rows)
         OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'imported', $9, $10, now(), $11)`,
        [id, was.flow, was.entity, was.name, was.sha256, was.size, was.modified_at, was.path, runId, was.first_seen_at, rows ?? null],
      );
    }
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
