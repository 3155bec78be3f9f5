import pg from 'pg';
import type { RunReport } from '../engine/report.js';
import { estimateRun, type RunEstimate } from '../engine/estimate.js';
import { PAIR_CATEGORIES, type PairCategory } from '../api/syncflow.js';

export interface RunRow {
  id: string;
  status: string;
  startedAt: Date;
  completedAt?: Date;
  heartbeatAt?: Date;
  error?: string;
  report?: RunReport;
}

export interface EntityProgress {
  name: string;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  archived: number;
  deleted: number;
  rejected: number;
}

/** The controller's read side of the state DB: runs by SyncJob, progress, estimates, pair categories. */
export class RunStore {
  readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC', application_name: 'ferry-controller' } as pg.PoolConfig);
    this.pool.on('error', () => {});
  }

  /** The newest run whose id starts with the SyncJob's run-id prefix (each Job attempt adds a suffix). */
  async latestRun(flowId: string, runIdPrefix: string): Promise<RunRow | undefined> {
    const result = await this.pool.query(
      `SELECT id, status, started_at, completed_at, heartbeat_at, error, report FROM ferry.runs
        WHERE flow = $1 AND starts_with(id, $2) ORDER BY started_at DESC LIMIT 1`,
      [flowId, runIdPrefix],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      startedAt: row.started_at,
      completedAt: row.completed_at ?? undefined,
      heartbeatAt: row.heartbeat_at ?? undefined,
      error: row.error ?? undefined,
      report: row.report ?? undefined,
    };
  }

  async progress(runId: string): Promise<EntityProgress[]> {
    const result = await this.pool.query(
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

  async estimate(flowId: string, mode: string, pendingRows?: Record<string, number>): Promise<RunEstimate | undefined> {
    const client = await this.pool.connect();
    try {
      return await estimateRun(client, { flowId, mode, pendingRows });
    } finally {
      client.release();
    }
  }

  async categories(flowId: string): Promise<Partial<Record<PairCategory, number>>> {
    const result = await this.pool.query(`SELECT category, count(*)::bigint AS n FROM ferry.pairs WHERE flow = $1 GROUP BY category`, [flowId]);
    const out: Partial<Record<PairCategory, number>> = {};
    for (const row of result.rows) if ((PAIR_CATEGORIES as readonly string[]).includes(row.category)) out[row.category as PairCategory] = Number(row.n);
    return out;
  }

  /** The newest transfer to an ExportTarget (by name, from runs of flows in its namespace). */
  async lastTransfer(namespace: string, target: string): Promise<{ runId: string; state: string; at: Date; bytes?: number; message?: string } | undefined> {
    const result = await this.pool.query(
      `SELECT t.run_id, t.status, coalesce(t.completed_at, t.started_at, r.started_at) AS at, t.bytes, t.message
         FROM ferry.export_transfers t JOIN ferry.runs r ON r.id = t.run_id
        WHERE t.target = $1 AND starts_with(r.flow, $2) ORDER BY t.id DESC LIMIT 1`,
      [target, `${namespace}/`],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return { runId: row.run_id, state: row.status, at: row.at, bytes: row.bytes === null ? undefined : Number(row.bytes), message: row.message ?? undefined };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
