import type { StateDb } from './state-connection.js';
import { currentHorizon, writtenIn, type Changes } from './change-reads.js';
import { Where, type FlowScope } from './where.js';

/** A file of a files source as the data API serves it (ferry.source_files with its flow). */
export interface SourceFileRow {
  id: string;
  flow: string;
  entity: string;
  name: string;
  sha256: string;
  size: number;
  modifiedAt: Date;
  path: string;
  status: string;
  reason: string | null;
  runId: string | null;
  rows: number | null;
  firstSeenAt: Date;
  importedAt: Date | null;
}

const COLUMNS = `id::text AS id, flow, entity, name, sha256, size, modified_at, path, status, reason, run_id, rows, first_seen_at, imported_at`;

function fromRow(r: Record<string, unknown>): SourceFileRow {
  return {
    id: r.id as string,
    flow: r.flow as string,
    entity: r.entity as string,
    name: r.name as string,
    sha256: r.sha256 as string,
    size: Number(r.size),
    modifiedAt: r.modified_at as Date,
    path: r.path as string,
    status: r.status as string,
    reason: (r.reason as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    rows: r.rows === null ? null : Number(r.rows),
    firstSeenAt: r.first_seen_at as Date,
    importedAt: (r.imported_at as Date | null) ?? null,
  };
}

export interface SourceFileQuery extends FlowScope {
  entity?: string;
  status?: string;
  /** Keyset paging in the order files apply: after this (flow, id). */
  after?: { flow: string; id: string };
  limit: number;
}

function filtered(query: Omit<SourceFileQuery, 'after' | 'limit'>): Where {
  const where = new Where();
  where.flows(query);
  if (query.entity !== undefined) where.add(`entity = ${where.param(query.entity)}`);
  if (query.status !== undefined) where.add(`status = ${where.param(query.status)}`);
  return where;
}

/** The files of the flows in scope, per flow in the order they apply. */
export async function listSourceFiles(db: StateDb, query: SourceFileQuery): Promise<SourceFileRow[]> {
  const where = filtered(query);
  if (query.after) where.add(`(flow, id) > (${where.param(query.after.flow)}, ${where.param(query.after.id)}::bigint)`);
  const result = await db.query(`SELECT ${COLUMNS} FROM ferry.source_files ${where} ORDER BY flow, source_files.id LIMIT ${where.param(query.limit)}`, where.params);
  return result.rows.map(fromRow);
}

export async function getSourceFile(db: StateDb, id: string): Promise<SourceFileRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query(`SELECT ${COLUMNS} FROM ferry.source_files WHERE id = $1`, [id]);
  return result.rows[0] ? fromRow(result.rows[0]) : undefined;
}

/**
 * Files recorded or updated since a horizon. A re-imported file's record moves to a new id (the old
 * row is deleted); watches see the new one, not the old one's deletion.
 */
export async function changedSourceFiles(db: StateDb, scope: FlowScope & { entity?: string }, since: number): Promise<Changes<SourceFileRow>> {
  const horizon = await currentHorizon(db);
  if (horizon <= since) return { horizon: since, changed: [], deleted: [] };
  const where = filtered(scope);
  where.add(writtenIn(where, 'f', since, horizon));
  const result = await db.query(`SELECT ${COLUMNS} FROM ferry.source_files f ${where} ORDER BY flow, f.id`, where.params);
  return { horizon, changed: result.rows.map(fromRow), deleted: [] };
}
