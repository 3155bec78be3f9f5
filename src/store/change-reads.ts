import type { StateDb } from './state-connection.js';
import { FILE_COLUMNS, exportFileFromRow, type ExportFileRecord } from './export-file-reads.js';
import { pairColumns, pairFromRow, type PairRecord } from './pair-reads.js';
import { RUN_COLUMNS, runFromRow, type RunRecord } from './run-reads.js';
import { selectUnpaired, unpairedFromRow, type UnpairedRecord } from './unpaired-records.js';
import { Where, type FlowScope } from './where.js';

/**
 * What changed in the state DB since a point, for watches on the data API.
 *
 * The point is a transaction horizon: the xmin of a snapshot, below which every transaction has
 * ended. Every row version carries the id of the transaction that wrote it (the `xmin` system
 * column), so "written since `since`" is `since <= xmin < horizon`, with no column or trigger on
 * the engine's write path. Rows of transactions still open at the horizon come with a later one.
 * Deletions leave no row: statement triggers keep them in ferry.pair_deletions and
 * ferry.unpaired_deletions.
 */
export interface Changes<R> {
  /** Where the next call starts; also the resourceVersion of what was read. */
  horizon: number;
  changed: R[];
  deleted: R[];
}

const XID_SPACE = 4294967296;

/** The current horizon (every transaction with a lower id has ended). */
export async function currentHorizon(db: StateDb): Promise<number> {
  const result = await db.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon`);
  return Number(result.rows[0].horizon);
}

/**
 * `xmin` is the low 32 bits of the writing transaction's id: its distance from `since` modulo 2^32
 * is below `horizon - since` exactly when it was written in the window (windows are far shorter
 * than 2^31 transactions; the caller refuses longer ones).
 */
export function writtenIn(where: Where, alias: string, since: number, horizon: number): string {
  return `((${alias}.xmin::text::bigint - ${where.param(since)}) % ${XID_SPACE} + ${XID_SPACE}) % ${XID_SPACE} < ${where.param(horizon - since)}`;
}

/** The longest window `writtenIn` can tell apart. */
export const MAX_WINDOW = 2 ** 31;

export async function changedPairs(db: StateDb, scope: FlowScope & { entity?: string }, since: number): Promise<Changes<PairRecord>> {
  const horizon = await currentHorizon(db);
  if (horizon <= since) return { horizon: since, changed: [], deleted: [] };
  // The flows' pairs through their scopes, which name each pair's flow and entity (pair_scopes).
  const where = new Where();
  where.flows(scope, 's.flow');
  if (scope.entity !== undefined) where.add(`s.entity = ${where.param(scope.entity)}`);
  where.add(`(${writtenIn(where, 'p', since, horizon)} OR EXISTS (
    SELECT 1 FROM ferry.pair_conflict_fields c
     WHERE c.flow = s.flow AND c.entity = s.entity AND c.source_key = p.source_key AND ${writtenIn(where, 'c', since, horizon)}))`);
  const changed = await db.query(
    `SELECT ${pairColumns('s.flow', 's.entity', 'p')} FROM ferry.pairs p JOIN ferry.pair_scopes s ON s.id = p.scope ${where}
      ORDER BY s.flow, s.entity, p.source_key`,
    where.params,
  );

  const gone = new Where();
  gone.add(`xid >= ${gone.param(since)} AND xid < ${gone.param(horizon)}`);
  gone.flows(scope);
  if (scope.entity !== undefined) gone.add(`pair ->> 'entity' = ${gone.param(scope.entity)}`);
  const deleted = await db.query(`SELECT pair FROM ferry.pair_deletions ${gone} ORDER BY xid`, gone.params);
  return {
    horizon,
    changed: changed.rows.map(pairFromRow),
    deleted: deleted.rows.map((r) => {
      const row = r.pair as Record<string, unknown>;
      const date = (key: string) => (row[key] ? new Date(row[key] as string) : null);
      return pairFromRow({ ...row, last_synced_at: date('last_synced_at'), source_gone_at: date('source_gone_at'), target_gone_at: date('target_gone_at') });
    }),
  };
}

/**
 * Unpaired records (category `new`) written or gone in `[since, horizon)`; the horizon is the one the
 * caller read pairs at, so both kinds of change of one watch window end at the same point.
 */
export async function changedUnpaired(db: StateDb, scope: FlowScope & { entity?: string }, since: number, horizon: number): Promise<Changes<UnpairedRecord>> {
  if (horizon <= since) return { horizon: since, changed: [], deleted: [] };
  const where = new Where();
  where.flows(scope, 'u.flow');
  if (scope.entity !== undefined) where.add(`u.entity = ${where.param(scope.entity)}`);
  where.add(writtenIn(where, 'u', since, horizon));
  const changed = await selectUnpaired(db, where);

  const gone = new Where();
  gone.add(`xid >= ${gone.param(since)} AND xid < ${gone.param(horizon)}`);
  gone.flows(scope);
  if (scope.entity !== undefined) gone.add(`record ->> 'entity' = ${gone.param(scope.entity)}`);
  const deleted = await db.query(`SELECT record FROM ferry.unpaired_deletions ${gone} ORDER BY xid`, gone.params);
  return { horizon, changed, deleted: deleted.rows.map((r) => unpairedFromRow(r.record as Record<string, unknown>)) };
}

export async function changedRuns(db: StateDb, scope: FlowScope, since: number): Promise<Changes<RunRecord>> {
  const horizon = await currentHorizon(db);
  if (horizon <= since) return { horizon: since, changed: [], deleted: [] };
  const where = new Where();
  where.flows(scope, 'r.flow');
  where.add(writtenIn(where, 'r', since, horizon));
  const result = await db.query(`SELECT ${RUN_COLUMNS} FROM ferry.runs r ${where} ORDER BY started_at, id`, where.params);
  // Ferry never deletes runs (they are history), so there is nothing to report as deleted.
  return { horizon, changed: result.rows.map(runFromRow), deleted: [] };
}

export async function changedExportFiles(db: StateDb, scope: FlowScope, since: number): Promise<Changes<ExportFileRecord>> {
  const horizon = await currentHorizon(db);
  if (horizon <= since) return { horizon: since, changed: [], deleted: [] };
  // A file still being written has no checksum yet.
  const where = new Where(`f.sha256 <> ''`);
  where.flows(scope, 'f.flow');
  where.add(`(${writtenIn(where, 'f', since, horizon)} OR EXISTS (
    SELECT 1 FROM ferry.export_transfers t WHERE t.file_id = f.id AND ${writtenIn(where, 't', since, horizon)}))`);
  const result = await db.query(`SELECT ${FILE_COLUMNS} FROM ferry.export_files f ${where} ORDER BY f.created_at, f.id`, where.params);
  // Files are purged (content dropped, row kept), never deleted.
  return { horizon, changed: result.rows.map(exportFileFromRow), deleted: [] };
}
