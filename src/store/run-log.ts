import type pg from 'pg';
import type { RunReport } from '../engine/report.js';
import type { Watermark } from './run-state.js';
import { redactSecrets } from '../util/redact.js';

/** A run as the history (`ferry.runs`) records it when it starts. */
export interface RunStart {
  runId: string;
  flow: string;
  mode: string;
  dryRun: boolean;
  requestedBy?: string;
  startedAt: Date;
}

/** How a run ended: its report, and the watermarks before and after. */
export interface RunEnd {
  runId: string;
  completedAt: Date;
  watermarksBefore: Record<string, Watermark>;
  watermarksAfter: Record<string, Watermark>;
  report: RunReport;
}

/** Records a sync or export run as Running; every run, whatever its kind, starts here. */
export async function recordRunStart(client: pg.ClientBase, run: RunStart): Promise<void> {
  await client.query(
    `INSERT INTO ferry.runs (id, flow, mode, dry_run, status, requested_by, started_at) VALUES ($1, $2, $3, $4, 'Running', $5, $6)`,
    [run.runId, run.flow, run.mode, run.dryRun, run.requestedBy ?? null, run.startedAt],
  );
}

/** Records how a run ended, with its full report (status only references it). */
export async function recordRunEnd(client: pg.ClientBase, run: RunEnd): Promise<void> {
  await client.query(
    `UPDATE ferry.runs SET status = $2, completed_at = $3, error = $4, watermarks_before = $5, watermarks_after = $6, report = $7 WHERE id = $1`,
    [run.runId, run.report.status, run.completedAt, run.report.error ?? null, run.watermarksBefore, run.watermarksAfter, run.report],
  );
}

/**
 * Records a run that failed before it could start (another run holds the flow's lock, bad input),
 * so the reason can be reported. A run that did start keeps its own row.
 */
export async function recordUnstartedRun(
  client: pg.ClientBase,
  run: { runId: string; flow: string; mode: string; status: 'LockHeld' | 'Failed'; error: string },
): Promise<void> {
  await client.query(
    `INSERT INTO ferry.runs (id, flow, mode, status, started_at, completed_at, error) VALUES ($1, $2, $3, $4, now(), now(), $5) ON CONFLICT (id) DO NOTHING`,
    [run.runId, run.flow, run.mode, run.status, redactSecrets(run.error)],
  );
}

/** Marks a run as alive now (`heartbeat_at`). */
export async function recordRunHeartbeat(client: pg.ClientBase, runId: string): Promise<void> {
  await client.query(`UPDATE ferry.runs SET heartbeat_at = now() WHERE id = $1`, [runId]);
}
