import type pg from 'pg';
import type { RunReport } from '../engine/report.js';
import { FlowBusyError } from '../util/errors.js';
import { openStateStore } from './db.js';
import { acquireFlowLock, releaseFlowLock } from './run-lock.js';
import { recordRunEnd, recordRunStart } from './run-log.js';
import type { StateClient } from './state-connection.js';

/** A run as `ferry.runs` records it, and the state DB it is recorded in. */
export interface RecordedRun {
  stateUrl: string;
  flowId: string;
  runId: string;
  mode: string;
  dryRun: boolean;
  requestedBy?: string;
}

/** What a run's work gets: the state DB, the bookkeeping session that holds the flow lock, and the run's start. */
export interface RunRecordSession {
  pool: pg.Pool;
  bookkeeping: StateClient;
  startedAt: Date;
}

export interface RunSteps<R extends RunReport> {
  /** The run itself, once the flow lock is held and the start recorded. It closes what it opens; a throw fails the run. */
  work(session: RunRecordSession): Promise<void>;
  /** The report of the ended run; `failure` is what taking the lock or `work` threw. */
  report(failure: unknown, times: { startedAt: Date; completedAt: Date }): R;
  /** The run's own end records (counters, export status), written under the lock before its `ferry.runs` row ends. */
  recordEnd?(bookkeeping: StateClient, report: R): Promise<void>;
}

/**
 * One run of a flow, sync or export, bracketed by the flow lock and its `ferry.runs` row: takes the
 * lock, records the start, runs `work`, records the end with the report and releases the lock; the
 * state DB session and pool are closed whatever happened. A run that did not get the lock records
 * nothing. FlowBusyError (another run holds the lock) is thrown; any other failure comes back with
 * the report, for the caller to surface.
 */
export async function withRunRecord<R extends RunReport>(run: RecordedRun, steps: RunSteps<R>): Promise<{ report: R; failure?: unknown }> {
  const { flowId, runId } = run;
  const store = await openStateStore(run.stateUrl);
  try {
    const bookkeeping = await store.pool.connect();
    try {
      const startedAt = new Date();
      let locked = false;
      let failure: unknown;
      try {
        await acquireFlowLock(bookkeeping, flowId, runId);
        locked = true;
        await recordRunStart(bookkeeping, { runId, flow: flowId, mode: run.mode, dryRun: run.dryRun, requestedBy: run.requestedBy, startedAt });
        await steps.work({ pool: store.pool, bookkeeping, startedAt });
      } catch (error) {
        failure = error;
      }
      const completedAt = new Date();
      const report = steps.report(failure, { startedAt, completedAt });
      if (locked) {
        await steps.recordEnd?.(bookkeeping, report);
        const { watermarksBefore, watermarksAfter } = report;
        await recordRunEnd(bookkeeping, { runId, completedAt, watermarksBefore, watermarksAfter, report });
        await releaseFlowLock(bookkeeping, flowId, runId);
      }
      if (failure instanceof FlowBusyError) throw failure;
      return { report, ...(failure ? { failure } : {}) };
    } finally {
      bookkeeping.release();
    }
  } finally {
    await store.close();
  }
}
