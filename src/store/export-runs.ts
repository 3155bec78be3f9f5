import type { StateClient, StateDb } from './state-connection.js';

// The export side of a run (`ferry.export_runs`): how its files were created and how their transfers went.

/** An export run whose files exist (created now, or for a Retransfer the files of `sourceRunId`); its transfers are pending. */
export interface CreatedExportRun {
  runId: string;
  flow: string;
  /** The export mode (Changes, Snapshot, Events) or 'Retransfer'. */
  mode: string;
  sourceRunId?: string;
  files: readonly { rows: number; bytes: number }[];
}

export async function recordExportRunCreated(client: StateClient, run: CreatedExportRun): Promise<void> {
  const rows = run.files.reduce((n, f) => n + f.rows, 0);
  const bytes = run.files.reduce((n, f) => n + f.bytes, 0);
  await client.query(
    `INSERT INTO ferry.export_runs (run_id, flow, mode, source_run_id, creation_status, transfer_status, files, rows, bytes)
     VALUES ($1, $2, $3, $4, 'Complete', 'Pending', $5, $6, $7)`,
    [run.runId, run.flow, run.mode, run.sourceRunId ?? null, run.files.length, rows, bytes],
  );
}

/** Records that a run created no files (whether or not its row exists yet); nothing was transferred. */
export async function recordExportCreationFailed(client: StateClient, run: { runId: string; flow: string; mode: string; sourceRunId?: string }): Promise<void> {
  await client.query(
    `INSERT INTO ferry.export_runs (run_id, flow, mode, source_run_id, creation_status, transfer_status) VALUES ($1, $2, $3, $4, 'Failed', 'NotStarted')
     ON CONFLICT (run_id) DO UPDATE SET creation_status = 'Failed', transfer_status = 'NotStarted'`,
    [run.runId, run.flow, run.mode, run.sourceRunId ?? null],
  );
}

export async function recordExportTransferStatus(client: StateClient, runId: string, transferStatus: string): Promise<void> {
  await client.query(`UPDATE ferry.export_runs SET transfer_status = $2 WHERE run_id = $1`, [runId, transferStatus]);
}

/** The flow and, for a Retransfer, the source run of an export run; undefined when the run is not an export run. */
export async function readExportRunOrigin(client: StateClient, runId: string): Promise<{ flow: string; sourceRunId: string | null } | undefined> {
  const result = await client.query<{ flow: string; source_run_id: string | null }>(
    `SELECT flow, source_run_id FROM ferry.export_runs WHERE run_id = $1`,
    [runId],
  );
  const row = result.rows[0];
  return row ? { flow: row.flow, sourceRunId: row.source_run_id } : undefined;
}

/** An export run as `ferry exports` lists it. */
export interface ExportRunRecord {
  runId: string;
  mode: string;
  sourceRunId: string | null;
  createdAt: Date;
  creationStatus: string;
  transferStatus: string;
  files: number;
  rows: number;
  bytes: number;
}

/** A flow's newest export runs first. */
export async function listExportRuns(db: StateDb, flow: string, limit: number): Promise<ExportRunRecord[]> {
  const result = await db.query(
    `SELECT run_id, mode, source_run_id, created_at, creation_status, transfer_status, files, rows, bytes
       FROM ferry.export_runs WHERE flow = $1 ORDER BY created_at DESC LIMIT $2`,
    [flow, limit],
  );
  return result.rows.map((r) => ({
    runId: r.run_id,
    mode: r.mode,
    sourceRunId: r.source_run_id,
    createdAt: r.created_at,
    creationStatus: r.creation_status,
    transferStatus: r.transfer_status,
    files: Number(r.files),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
  }));
}
