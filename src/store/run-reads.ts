import { boundedSearch } from './bounded-search.js';
import type { StateDb } from './state-connection.js';
import type { RunReport } from '../engine/report.js';
import type { EntityCounters } from './run-state.js';
import { Where } from './where.js';

/** A row of ferry.runs as the data API shows it; the report is loaded only for the report subresource. */
export interface RunRecord {
  id: string;
  flow: string;
  mode: string;
  scope: string | null;
  record: string | null;
  dryRun: boolean;
  status: string;
  requestedBy: string | null;
  startedAt: Date;
  completedAt: Date | null;
  heartbeatAt: Date | null;
  error: string | null;
  totals: RunReport['totals'] | null;
}

export interface RunQuery {
  namespace?: string;
  flow?: string;
  /** A flow's name in any namespace (lists across namespaces). */
  flowName?: string;
  status?: string;
  /** Keyset paging, newest first: rows strictly older than this (started_at, id). */
  before?: { startedAt: string; id: string };
  limit: number;
}

export interface RejectedRowRecord {
  id: number;
  entity: string;
  sourceKey: string | null;
  reason: string;
  detail: string | null;
  at: Date;
}

export const RUN_COLUMNS = `id, flow, mode, scope, record, dry_run, status, requested_by, started_at, completed_at, heartbeat_at, error,
  report -> 'totals' AS totals, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key`;

export function runFromRow(r: Record<string, unknown>): RunRecord & { startedKey: string } {
  return {
    id: r.id as string,
    flow: r.flow as string,
    mode: r.mode as string,
    scope: (r.scope as string | null) ?? null,
    record: (r.record as string | null) ?? null,
    dryRun: r.dry_run as boolean,
    status: r.status as string,
    requestedBy: (r.requested_by as string | null) ?? null,
    startedAt: r.started_at as Date,
    completedAt: (r.completed_at as Date | null) ?? null,
    heartbeatAt: (r.heartbeat_at as Date | null) ?? null,
    error: (r.error as string | null) ?? null,
    totals: (r.totals as RunReport['totals'] | null) ?? null,
    // Microseconds: a JavaScript Date would round the paging position to milliseconds.
    startedKey: r.started_key as string,
  };
}

/** One page of runs, newest first. */
export async function listRuns(db: StateDb, query: RunQuery): Promise<(RunRecord & { startedKey: string })[]> {
  const where = new Where();
  where.flows(query);
  if (query.status !== undefined) where.add(`status = ${where.param(query.status)}`);
  if (query.before) where.add(`(started_at, id) < (${where.param(query.before.startedAt)}::timestamptz, ${where.param(query.before.id)})`);
  const result = await db.query(
    `SELECT ${RUN_COLUMNS} FROM ferry.runs ${where} ORDER BY started_at DESC, id DESC LIMIT ${where.param(query.limit)}`,
    where.params,
  );
  return result.rows.map(runFromRow);
}

export async function getRun(db: StateDb, id: string): Promise<RunRecord | undefined> {
  const result = await db.query(`SELECT ${RUN_COLUMNS} FROM ferry.runs WHERE id = $1`, [id]);
  return result.rows[0] ? runFromRow(result.rows[0]) : undefined;
}

/** The full report a finished run stored (undefined while it runs). */
export async function runReport(db: StateDb, id: string): Promise<RunReport | undefined> {
  const result = await db.query(`SELECT report FROM ferry.runs WHERE id = $1`, [id]);
  return (result.rows[0]?.report as RunReport | null) ?? undefined;
}

/** Rejected rows of a run with their reasons, in the order they were rejected, paged by id. */
export async function rejectedRows(db: StateDb, runId: string, options: { afterId?: number; limit: number }): Promise<RejectedRowRecord[]> {
  const result = await db.query(
    `SELECT id, entity, source_key, reason, detail, at FROM ferry.rejected_rows WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [runId, options.afterId ?? 0, options.limit],
  );
  return result.rows.map((r) => ({ id: Number(r.id), entity: r.entity, sourceKey: r.source_key, reason: r.reason, detail: r.detail, at: r.at }));
}

/**
 * Rejected rows of a run whose entity, key, reason or detail contains `text`, from a bounded window
 * of the run's rows after `afterId` (bounded-search.ts); `scanEndId` is where to go on when the
 * window ended before `limit` hits.
 */
export async function searchRejectedRows(db: StateDb, runId: string, options: { afterId?: number; limit: number; text: string }): Promise<{ rows: RejectedRowRecord[]; scanEndId?: number }> {
  const found = await boundedSearch(db, {
    select: 'SELECT id, entity, source_key, reason, detail, at FROM ferry.rejected_rows WHERE run_id = $1 AND id > $2',
    params: [runId, options.afterId ?? 0],
    order: 'id',
    orderDescending: 'id DESC',
    searched: ['entity', "coalesce(source_key, '')", 'reason', "coalesce(detail, '')"],
    text: options.text,
    limit: options.limit,
  });
  return {
    rows: found.hits.map((r) => ({ id: Number(r.id), entity: r.entity as string, sourceKey: r.source_key as string | null, reason: r.reason as string, detail: r.detail as string | null, at: r.at as Date })),
    ...(found.scanEnd ? { scanEndId: Number(found.scanEnd.id) } : {}),
  };
}

/** The newest run of a flow whose id starts with `idPrefix` (a SyncJob's runs: each Job attempt adds a suffix), with its report. */
export async function latestRunByIdPrefix(
  db: StateDb,
  flow: string,
  idPrefix: string,
): Promise<(RunRecord & { report: RunReport | null }) | undefined> {
  const result = await db.query(`SELECT ${RUN_COLUMNS}, report FROM ferry.runs WHERE flow = $1 AND starts_with(id, $2) ORDER BY started_at DESC LIMIT 1`, [
    flow,
    idPrefix,
  ]);
  const row = result.rows[0];
  return row ? { ...runFromRow(row), report: (row.report as RunReport | null) ?? null } : undefined;
}

/** What one entity of a run counted so far (the counters `ferry.run_entities` keeps). */
export interface EntityProgress extends Pick<EntityCounters, 'read' | 'created' | 'updated' | 'unchanged' | 'archived' | 'deleted' | 'rejected'> {
  name: string;
}

/** The counters each entity of a run saved so far, in the run's entity order. */
export async function runProgress(db: StateDb, runId: string): Promise<EntityProgress[]> {
  const result = await db.query(
    `SELECT entity AS name, read, created, updated, unchanged, archived, deleted, rejected FROM ferry.run_entities WHERE run_id = $1 ORDER BY position`,
    [runId],
  );
  return result.rows.map((r) => ({
    name: r.name,
    read: Number(r.read),
    created: Number(r.created),
    updated: Number(r.updated),
    unchanged: Number(r.unchanged),
    archived: Number(r.archived),
    deleted: Number(r.deleted),
    rejected: Number(r.rejected),
  }));
}
