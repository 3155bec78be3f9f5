import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { literal } from '../util/sql.js';
import { CopyBinaryValues } from './copy-binary.js';
import { endNamespaceSession, openNamespaceSession } from './namespace-scope.js';
import type { StateDb } from './state-connection.js';
import { archivedFileFromRow, DB_LOCATION, type ArchivedFile } from './export-archive.js';
import { Where } from './where.js';

export interface ExportFileTransferRecord {
  target: string;
  status: string;
  remotePath: string | null;
  bytes: number | null;
  attempts: number;
  reason: string | null;
  message: string | null;
  completedAt: Date | null;
}

export interface ExportFileRecord extends ArchivedFile {
  expiresAt: Date | null;
  transfers: ExportFileTransferRecord[];
}

export interface ExportFileQuery {
  namespace?: string;
  flow?: string;
  /** A flow's name in any namespace (lists across namespaces). */
  flowName?: string;
  runId?: string;
  /** Keyset paging, newest first: strictly older than this (created_at, id). */
  before?: { createdAt: string; id: string };
  limit: number;
}

export const FILE_COLUMNS = `f.id, f.run_id, f.flow, f.entity, f.part, f.name, f.rows, f.bytes, f.sha256, f.location, f.created_at, f.expires_at, f.purged_at,
  to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key,
  coalesce((SELECT json_agg(json_build_object('target', t.target, 'status', t.status, 'remotePath', t.remote_path, 'bytes', t.bytes,
      'attempts', t.attempts, 'reason', t.reason, 'message', t.message, 'completedAt', t.completed_at) ORDER BY t.id)
    FROM ferry.export_transfers t WHERE t.file_id = f.id), '[]'::json) AS transfers`;

export function exportFileFromRow(r: Record<string, unknown>): ExportFileRecord & { createdKey: string } {
  const transfers = (r.transfers as (Omit<ExportFileTransferRecord, 'completedAt'> & { completedAt: string | null })[]).map((t) => ({
    ...t,
    bytes: t.bytes === null ? null : Number(t.bytes),
    completedAt: t.completedAt ? new Date(t.completedAt) : null,
  }));
  return {
    ...archivedFileFromRow(r),
    expiresAt: (r.expires_at as Date | null) ?? null,
    transfers,
    createdKey: r.created_key as string,
  };
}

/** Archived export files (finished ones: a file still being written has no checksum yet), newest first. */
export async function listExportFiles(db: StateDb, query: ExportFileQuery): Promise<(ExportFileRecord & { createdKey: string })[]> {
  // A file still being written has no checksum yet.
  const where = new Where(`f.sha256 <> ''`);
  where.flows(query, 'f.flow');
  if (query.runId !== undefined) where.add(`f.run_id = ${where.param(query.runId)}`);
  if (query.before) where.add(`(f.created_at, f.id) < (${where.param(query.before.createdAt)}::timestamptz, ${where.param(query.before.id)})`);
  const result = await db.query(
    `SELECT ${FILE_COLUMNS} FROM ferry.export_files f ${where} ORDER BY f.created_at DESC, f.id DESC LIMIT ${where.param(query.limit)}`,
    where.params,
  );
  return result.rows.map(exportFileFromRow);
}

export async function getExportFile(db: StateDb, id: string): Promise<ExportFileRecord | undefined> {
  const result = await db.query(`SELECT ${FILE_COLUMNS} FROM ferry.export_files f WHERE f.id = $1 AND f.sha256 <> ''`, [id]);
  return result.rows[0] ? exportFileFromRow(result.rows[0]) : undefined;
}

/**
 * The bytes of an archived file, streamed: the DB archive's 1 MiB chunks in order through one
 * `COPY … (FORMAT binary)` (raw bytes at psql's speed, backpressured, so memory stays flat whatever
 * the file size), or the archive file itself. The DB archive's stream holds a pooled session until
 * it is read to the end: a reader that stops early, or never starts, destroys it to give it back.
 */
export function streamExportFile(pool: pg.Pool, file: Pick<ExportFileRecord, 'id' | 'location'>, namespace?: string): Readable {
  if (file.location !== DB_LOCATION) return createReadStream(file.location);
  const values = new CopyBinaryValues();
  // With a namespace, the chunks are read as its role (store/namespace-scope.ts): another namespace's file reads as empty.
  const session = namespace === undefined ? pool.connect() : openNamespaceSession(pool, namespace);
  const end = (client: pg.PoolClient, error?: Error) => (namespace === undefined ? client.release(error) : void endNamespaceSession(client, error));
  session.then(
    (client) => {
      if (values.destroyed) {
        // Given up on before the session came: nothing was asked of it.
        end(client);
        return;
      }
      const copy = client.query(copyTo(`COPY (SELECT data FROM ferry.export_file_chunks WHERE file_id = ${literal(file.id)} ORDER BY seq) TO STDOUT (FORMAT binary)`));
      let released = false;
      const release = (error?: Error) => {
        if (released) return;
        released = true;
        // A COPY cut short leaves the connection mid-protocol: drop it instead of pooling it.
        end(client, error ?? (copy.readableEnded ? undefined : new Error('download aborted')));
      };
      copy.on('error', (error) => {
        release(error);
        values.destroy(error);
      });
      copy.on('end', () => release());
      values.on('close', () => {
        if (!copy.readableEnded) {
          copy.destroy();
          release(new Error('download aborted'));
        }
      });
      copy.pipe(values);
    },
    (error) => values.destroy(error as Error),
  );
  return values;
}
