import type { StateDb } from './state-connection.js';
import { Where } from './where.js';

// Each transfer of an export file to an ExportTarget (`ferry.export_transfers`), written as it changes.

/** How a transfer ended, as it is recorded. */
export interface TransferEnd {
  status: string;
  remotePath?: string;
  bytes?: number;
  durationMs?: number;
  attempts: number;
  reason?: string;
  message?: string;
}

/** Records a transfer about to start; returns its id. */
export async function recordTransferPending(db: StateDb, transfer: { runId: string; fileId: string; target: string }): Promise<number> {
  const result = await db.query<{ id: string }>(
    `INSERT INTO ferry.export_transfers (run_id, file_id, target, status) VALUES ($1, $2, $3, 'pending') RETURNING id`,
    [transfer.runId, transfer.fileId, transfer.target],
  );
  return Number(result.rows[0]!.id);
}

export async function recordTransferAttempt(db: StateDb, id: number, attempts: number): Promise<void> {
  await db.query(`UPDATE ferry.export_transfers SET status = 'transferring', attempts = $2, started_at = coalesce(started_at, now()) WHERE id = $1`, [
    id,
    attempts,
  ]);
}

export async function recordTransferEnd(db: StateDb, id: number, end: TransferEnd): Promise<void> {
  await db.query(
    `UPDATE ferry.export_transfers SET status = $2, remote_path = $3, bytes = $4, duration_ms = $5, attempts = $6, reason = $7,
       message = $8, completed_at = now() WHERE id = $1`,
    [id, end.status, end.remotePath ?? null, end.bytes ?? null, end.durationMs ?? null, end.attempts, end.reason ?? null, end.message ?? null],
  );
}

/** A recorded transfer of one file of a run, as `ferry exports` lists it. */
export interface RunTransfer {
  runId: string;
  target: string;
  file: string;
  status: string;
  reason: string | null;
  message: string | null;
  remotePath: string | null;
  bytes: number | null;
  attempts: number;
}

/** The transfers of these runs, by target, then file (entity and part). */
export async function transfersOfRuns(db: StateDb, runIds: string[]): Promise<RunTransfer[]> {
  const result = await db.query(
    `SELECT t.run_id, t.target, f.name AS file, t.status, t.reason, t.message, t.remote_path, t.bytes, t.attempts
       FROM ferry.export_transfers t JOIN ferry.export_files f ON f.id = t.file_id
      WHERE t.run_id = ANY($1) ORDER BY t.target, f.entity, f.part`,
    [runIds],
  );
  return result.rows.map((t) => ({
    runId: t.run_id,
    target: t.target,
    file: t.file,
    status: t.status,
    reason: t.reason,
    message: t.message,
    remotePath: t.remote_path,
    bytes: t.bytes === null ? null : Number(t.bytes),
    attempts: Number(t.attempts),
  }));
}

/** The latest state of a transfer to an ExportTarget, as its status shows it. */
export interface LastTransfer {
  runId: string;
  state: string;
  at: Date;
  bytes?: number;
  message?: string;
}

/** The newest transfer to an ExportTarget, by name, from runs of flows in its namespace. */
export async function lastTransferTo(db: StateDb, namespace: string, target: string): Promise<LastTransfer | undefined> {
  const where = new Where();
  where.add(`t.target = ${where.param(target)}`);
  where.flows({ namespace }, 'r.flow');
  const result = await db.query(
    `SELECT t.run_id, t.status, coalesce(t.completed_at, t.started_at, r.started_at) AS at, t.bytes, t.message
       FROM ferry.export_transfers t JOIN ferry.runs r ON r.id = t.run_id ${where} ORDER BY t.id DESC LIMIT 1`,
    where.params,
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return { runId: row.run_id, state: row.status, at: row.at, bytes: row.bytes === null ? undefined : Number(row.bytes), message: row.message ?? undefined };
}
