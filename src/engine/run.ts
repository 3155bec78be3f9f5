import type { SyncMode } from '../api/common.js';
import { RunState } from '../store/run-state.js';
import { withRunRecord } from '../store/run-record.js';
import type { StateClient } from '../store/state-connection.js';
import { ConfigError, FerryError } from '../util/errors.js';
import type { RejectedSample } from './one-way/context.js';
import { buildRunReport, type RunReport } from './report.js';
import { RunConnections, type LaneConnections } from './run/connections.js';
import { ProgressSaver } from './run/progress.js';
import { StatisticsRefresh } from './run/statistics-refresh.js';
import { withRunDefaults, type DefaultedRunRequest, type RunRequest } from './run/request.js';
import { entityReport, RunFailedError } from './run/run-report.js';
import { emptyOutcome, syncFlow, type RunOutcome } from './run/sync-flow.js';

export type { RunRequest } from './run/request.js';
export { RunFailedError } from './run/run-report.js';

const SUPPORTED_MODES = new Set<SyncMode>(['Full', 'Incremental', 'Scope', 'Record', 'Resolve']);

/**
 * Runs one sync of a flow: the code path shared by `ferry run` and the Kubernetes Job. Export flows
 * go to the export pipeline; a sync runs (run/sync-flow.ts) inside the run record (store/run-record.ts:
 * flow lock, start and end), and always closes every connection.
 */
export async function runSync(input: RunRequest): Promise<RunReport> {
  const request = withRunDefaults(input);
  const { flowId, runId, dryRun } = request;
  if (request.spec.target.export || request.mode === 'Retransfer') {
    // The export pipeline (archives, compression, encryption, transports) loads only for an export flow.
    const { runExport } = await import('../export/run-export.js');
    const { report, failure } = await runExport({ ...input, runId });
    if (failure) throw new RunFailedError(report, failure instanceof FerryError ? failure.exitCode : 1, failure);
    return report;
  }
  if (!SUPPORTED_MODES.has(request.mode)) {
    throw new FerryError(`mode ${request.mode} is not supported yet by this version of the engine (supported: ${[...SUPPORTED_MODES].join(', ')})`, 2);
  }

  const outcome = emptyOutcome();
  // The first lane's connections open while the run takes the flow lock and records its start (an SSH
  // handshake alone takes a few hundred ms); a run that ends before its work closes them here.
  const connections = request.connectors && new RunConnections(request.connectors, request.stateUrl);
  const firstLane = connections?.openLane();
  firstLane?.catch(() => {}); // a failure is the work's, which takes the lane
  const opening = connections && firstLane && { connections, firstLane };
  let recorded: { report: RunReport; failure?: unknown };
  try {
    recorded = await withRunRecord(
      { stateUrl: request.stateUrl, flowId, runId, mode: request.mode, dryRun, requestedBy: request.requestedBy },
      {
        work: ({ bookkeeping }) => sync(request, bookkeeping, outcome, opening),
        report: (failure, times) => finalReport(request, times, outcome, failure),
        recordEnd: async (bookkeeping, report) => {
          const finalState = new RunState(bookkeeping, flowId, runId);
          await finalState.saveAllCounters(report.entities.map((e, position) => ({ entity: e.name, position, counters: e })));
          await finalState.recordRejected(report.rejectedSamples.map((r) => ({ entity: r.entity, sourceKey: r.key, reason: r.reason })));
        },
      },
    );
  } finally {
    await firstLane?.catch(() => {});
    await connections?.closeAll();
  }
  const { report, failure } = recorded;
  if (failure) throw new RunFailedError(report, failure instanceof FerryError ? failure.exitCode : 1, failure);
  return report;
}

/** The sync between the run's start and end records; progress is saved on the bookkeeping session as it goes. */
async function sync(
  request: DefaultedRunRequest,
  bookkeeping: StateClient,
  outcome: RunOutcome,
  opening: { connections: RunConnections; firstLane: Promise<LaneConnections> } | undefined,
): Promise<void> {
  if (!opening) throw new ConfigError('a sync run needs source and target connectors');
  const { connections, firstLane } = opening;
  const positionOf = (entity: string) => outcome.plan?.entities.find((e) => e.name === entity)?.position ?? 0;
  const progress = new ProgressSaver(bookkeeping, request.flowId, request.runId, positionOf);
  const statistics = new StatisticsRefresh();
  try {
    await syncFlow(
      {
        request,
        connections,
        firstLane,
        statistics,
        onProgress: (entity, counters) => {
          progress.save(entity, counters);
          request.onProgress?.(entity, counters);
        },
      },
      outcome,
    );
  } finally {
    await progress.settled();
    // A failed run still lets a refresh end before its connection closes (its failure is the run's own, if any).
    await statistics.settle().catch(() => {});
    await connections.closeAll();
  }
}

function finalReport(request: DefaultedRunRequest, times: { startedAt: Date; completedAt: Date }, outcome: RunOutcome, failure: unknown): RunReport {
  const { plan, selection, results } = outcome;
  const entities = plan ? (selection?.entities ?? plan.entities).map((e) => entityReport(e, results.get(e.name))) : [];
  for (const e of entities) e.categories = { ...outcome.categories?.get(e.name) };
  const rejectedSamples: RejectedSample[] = [...results.values()].flatMap((r) => r.rejected);
  const { source, target } = request.connectors ?? {};
  const notes = [...(request.notes ?? []), ...(source?.runNotes?.() ?? []), ...(target?.runNotes?.() ?? [])];
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
    ...(notes.length ? { notes } : {}),
    failure,
  });
}
