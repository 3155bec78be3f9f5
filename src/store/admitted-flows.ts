import type pg from 'pg';
import type { SyncFlowSpec } from '../api/syncflow.js';

/** Admitted specs are kept this long: a SyncJob waits for its pod minutes, not weeks. */
const KEEP_DAYS = 30;

export interface AdmittedFlow {
  generation: number;
  spec: SyncFlowSpec;
}

/** Records the spec a SyncJob was admitted with (idempotent: a re-admission keeps the first). */
export async function recordAdmittedFlow(db: pg.Pool | pg.ClientBase, admitted: { syncJobUid: string; flow: string } & AdmittedFlow): Promise<void> {
  await db.query(`DELETE FROM ferry.admitted_flows WHERE admitted_at < now() - make_interval(days => $1)`, [KEEP_DAYS]);
  await db.query(
    `INSERT INTO ferry.admitted_flows (sync_job_uid, flow, generation, spec) VALUES ($1, $2, $3, $4) ON CONFLICT (sync_job_uid) DO NOTHING`,
    [admitted.syncJobUid, admitted.flow, admitted.generation, JSON.stringify(admitted.spec)],
  );
}

/** The spec a SyncJob was admitted with; undefined when none was recorded (a controller older than this table). */
export async function admittedFlow(db: pg.Pool | pg.ClientBase, syncJobUid: string): Promise<AdmittedFlow | undefined> {
  const { rows } = await db.query<{ generation: string; spec: SyncFlowSpec }>(`SELECT generation, spec FROM ferry.admitted_flows WHERE sync_job_uid = $1`, [syncJobUid]);
  return rows[0] ? { generation: Number(rows[0].generation), spec: rows[0].spec } : undefined;
}

/** The pod records which generation it runs, next to the admitted one. */
export async function recordRanGeneration(db: pg.Pool | pg.ClientBase, syncJobUid: string, generation: number): Promise<void> {
  await db.query(`UPDATE ferry.admitted_flows SET ran_generation = $2 WHERE sync_job_uid = $1`, [syncJobUid, generation]);
}

/** The generations a SyncJob was admitted with and ran, as far as recorded. */
export async function flowGenerations(db: pg.Pool | pg.ClientBase, syncJobUid: string): Promise<{ admitted: number; ran?: number } | undefined> {
  const { rows } = await db.query<{ generation: string; ran_generation: string | null }>(
    `SELECT generation, ran_generation FROM ferry.admitted_flows WHERE sync_job_uid = $1`,
    [syncJobUid],
  );
  if (!rows[0]) return undefined;
  return { admitted: Number(rows[0].generation), ...(rows[0].ran_generation !== null ? { ran: Number(rows[0].ran_generation) } : {}) };
}
