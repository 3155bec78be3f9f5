import type { SyncMode } from '../api/common.js';
import { runExport } from '../export/run-export.js';
import { openStateStore } from '../store/db.js';
import { RunState } from '../store/run-state.js';
import { acquireFlowLock, releaseFlowLock } from '../store/run-lock.js';
import { recordRunEnd, recordRunStart } from '../store/run-log.js';
import { pairCategories } from '../store/two-way-pairs.js';
import { ConfigError, FerryError, FlowBusyError } from '../util/errors.js';
import type { RejectedSample } from './one-way/context.js';
import { buildRunReport, type RunReport } from './report.js';
import { RunConnections } from './run/connections.js';
import { ProgressSaver } from './run/progress.js';
import { withRunDefaults, type DefaultedRunRequest, type RunRequest } from './run/request.js';
import { entityReport, RunFailedError } from './run/run-report.js';
import { emptyOutcome, syncFlow, type RunOutcome } from './run/sync-flow.js';

export type { RunRequest } from './run/request.js';
export { RunFailedError } from './run/run-report.js';

const SUPPORTED_MODES = new Set<SyncMode>(['Full', 'Incremental', 'Scope', 'Record', 'Resolve']);

/**
 * Runs one sync of a flow: the code path shared by `ferry run` and the Kubernetes Job. Export flows
 * go to the export pipeline; a sync takes the flow lock, records its start, syncs (run/sync-flow.ts),
 * and always records its end with a report, releases the lock and closes every connection.
 */
export async function runSync(input: RunRequest): Promise<RunReport> {
  const request = withRunDefaults(input);
  const { flowId, runId, dryRun } = request;
  if (request.spec.target.export || request.mode === 'Retransfer') {
    const { report, failure } = await runExport({ ...input, runId });
    if (failure instanceof FlowBusyError) throw failure;
    if (failure) throw new RunFailedError(report, failure instanceof FerryError ? failure.exitCode : 1, failure);
    return report;
  }
  if (!SUPPORTED_MODES.has(request.mode)) {
    throw new FerryError(`mode ${request.mode} is not supported yet by this version of the engine (supported: ${[...SUPPORTED_MODES].join(', ')})`, 2);
  }

  const store = await openStateStore(request.stateUrl);
  const bookkeeping = await store.pool.connect();
  const startedAt = new Date();
  const outcome = emptyOutcome();
  const connections = request.connectors && new RunConnections(request.connectors, request.stateUrl);
  const progress = new ProgressSaver(bookkeeping, flowId, runId, (entity) => outcome.plan?.entities.find((e) => e.name === entity)?.position ?? 0);
  let locked = false;
  let failure: unknown;
  try {
    await acquireFlowLock(bookkeeping, flowId, runId);
    locked = true;
    await recordRunStart(bookkeeping, { runId, flow: flowId, mode: request.mode, dryRun, requestedBy: request.requestedBy, startedAt });
    if (!connections) throw new ConfigError('a sync run needs source and target connectors');
    await syncFlow(
      {
        request,
        connections,
        onProgress: (entity, counters) => {
          progress.save(entity, counters);
          request.onProgress?.(entity, counters);
        },
      },
      outcome,
    );
  } catch (error) {
    failure = error;
  }

  const completedAt = new Date();
  const report = finalReport(request, { startedAt, completedAt }, outcome, failure);
  try {
    await progress.settled();
    await connections?.closeAll();
    if (locked) {
      const { watermarksBefore, watermarksAfter } = outcome;
      await recordRunEnd(bookkeeping, { runId, completedAt, watermarksBefore, watermarksAfter, report });
      const finalState = new RunState(bookkeeping, flowId, runId);
      await finalState.saveAllCounters(report.entities.map((e, position) => ({ entity: e.name, position, counters: e })));
      await finalState.recordRejected(report.rejectedSamples.map((r) => ({ entity: r.entity, sourceKey: r.key, reason: r.reason })));
      await releaseFlowLock(bookkeeping, flowId, runId);
    }
  } finally {
    bookkeeping.release();
    await store.close();
  }
  if (failure instanceof FlowBusyError) throw failure;
  if (failure) {
    const exitCode = failure instanceof FerryError ? failure.exitCode : 1;
    throw new RunFailedError(report, exitCode, failure);
  }
  return report;
}

function finalReport(request: DefaultedRunRequest, times: { startedAt: Date; completedAt: Date }, outcome: RunOutcome, failure: unknown): RunReport {
  const { plan, selection, results } = outcome;
  const entities = plan ? (selection?.entities ?? plan.entities).map((e) => entityReport(e, results.get(e.name))) : [];
  for (const e of entities) e.categories = pairCategories(outcome.categories?.get(e.name), e);
  const rejectedSamples: RejectedSample[] = [...results.values()].flatMap((r) => r.rejected);
  return buildRunReport({
    runId: request.runId,
    flow: request.flowId,
    mode: request.mode,
    subject: selection?.subject,
    dryRun: request.dryRun,
    ...times,
    watermarksBefore: outcome.watermarksBefore,
    watermarksAfter: outcome.watermarksAfter,
    entities,
    rejectedSamples,
    failure,
  });
}
