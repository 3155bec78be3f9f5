import type { Logger } from 'pino';
import { recordFlowTargets, type FlowTarget } from '../../store/flow-targets.js';
import { categoryCounts } from '../../store/two-way-pairs.js';
import { RunState, type EntityCounters } from '../../store/run-state.js';
import { EntitySync } from '../entity-sync.js';
import type { EntityResult, EntitySyncContext } from '../one-way/context.js';
import { planFlow, type FlowPlan } from '../plan.js';
import type { RunReport } from '../report.js';
import { applyResolutions } from '../resolve.js';
import { runPass, selectRun, type RunSelection } from '../run-selection.js';
import { runInDependencyOrder } from '../scheduler.js';
import { Transactions } from '../transactions.js';
import { TwoWayEntitySync } from '../two-way/entity-sync.js';
import { selectTwoWayRecord } from '../two-way/record.js';
import type { Session } from '../connector.js';
import { readCatalog, refuseDryRunWithout } from './catalog-check.js';
import type { LaneConnections, RunConnections } from './connections.js';
import { Lanes } from './lanes.js';
import { recoverInterruptedBatches } from './recover-batches.js';
import type { StatisticsRefresh } from './statistics-refresh.js';
import type { DefaultedRunRequest } from './request.js';
import type { CategoryCounts } from '../two-way/types.js';

/** What a run got done; filled in as it goes, so a failed run still reports how far it came. */
export interface RunOutcome {
  results: Map<string, EntityResult>;
  plan?: FlowPlan;
  selection?: RunSelection;
  watermarksBefore: RunReport['watermarksBefore'];
  watermarksAfter: RunReport['watermarksAfter'];
  categories?: Awaited<ReturnType<typeof categoryCounts>>;
}

export function emptyOutcome(): RunOutcome {
  return { results: new Map(), watermarksBefore: {}, watermarksAfter: {} };
}

export interface SyncFlowRun {
  request: DefaultedRunRequest;
  connections: RunConnections;
  /** The first lane's connections, opened (or opening) since the run began. */
  firstLane: Promise<LaneConnections>;
  onProgress: (entity: string, counters: EntityCounters) => void;
  /** The refreshes of the pairs' statistics the passes ask for; done before the run's connections close. */
  statistics: StatisticsRefresh;
}

/**
 * The sync itself, once the run holds the flow lock: read the catalogs, plan, recover interrupted
 * batches, select what the run touches, then sync the entities on their lanes in dependency order.
 */
export async function syncFlow(run: SyncFlowRun, outcome: RunOutcome): Promise<void> {
  const { request, connections } = run;
  const { flowId, runId, logger, dryRun } = request;
  const first = await run.firstLane;
  const { source, sourceFetch, target, state } = first;

  const catalog = await readCatalog(request.spec, source, target);
  if (dryRun) refuseDryRunWithout(catalog, request.spec);
  const plan = planFlow(request.spec, catalog);
  outcome.plan = plan;
  const plans = new Map(plan.entities.map((e) => [e.name, e]));
  const targetSystem = request.connectors?.target.identity;
  if (targetSystem && !dryRun) await recordFlowTargets(state.client, flowId, flowTargets(plan, targetSystem));
  const runState = new RunState(state.client, flowId, runId);
  outcome.watermarksBefore = await runState.readAllWatermarks();
  await recoverInterruptedBatches(runState, plans, state, target, flowId, logger);
  const twoWay = request.spec.direction === 'TwoWay';
  // A Record run reads its closure and then its rows in one snapshot (it runs on one lane). Two-way
  // runs write the source on sourceFetch, so they read the closure in a snapshot on the other connection.
  const snapshot = twoWay ? source : sourceFetch;
  if (request.mode === 'Record') await snapshot.beginSnapshot();
  const selection = await select(request, plan, first, snapshot);
  outcome.selection = selection;

  const tx = new Transactions(dryRun);
  await tx.open(state);
  await tx.open(target);
  // Two-way runs write the source too (on the lanes' sourceFetch connections).
  if (twoWay) await tx.open(sourceFetch);
  const lanes = new Lanes(
    {
      flowId,
      runId,
      batchSize: plan.batchSize,
      tx,
      plans,
      selection,
      cacheLookups: request.mode !== 'Record',
      windowSeconds: request.spec.loopProtection.windowSeconds,
      logger,
      onProgress: run.onProgress,
      statistics: run.statistics,
    },
    connections,
  );
  const contexts = await lanes.open(first, request.parallelEntities);
  const knownPairs = new Map<string, CategoryCounts>();
  await syncEntities(request, plan, selection, lanes, contexts, outcome.results, run.statistics, knownPairs);
  if (request.mode === 'Record') await snapshot.endSnapshot();

  // Every write has committed: the connectors record the run's end (files sources: the files read
  // as imported) beside the reads below and the last pass's statistics refresh, none of which a
  // re-run depends on. A run that fails from here on may have recorded its files: their rows are in.
  const finishing = dryRun ? undefined : connections.finishRun(runId);
  finishing?.catch(() => {}); // awaited below, also when a read fails
  try {
    outcome.categories = await categoryCounts(state.client, flowId, knownPairs);
    outcome.watermarksAfter = dryRun ? outcome.watermarksBefore : await runState.readAllWatermarks();
    await tx.close(state);
    await tx.close(target);
    if (twoWay) await tx.close(sourceFetch);
  } finally {
    await finishing?.catch(() => {});
  }
  await finishing;
  // The last pass's refresh ran beside the counts above; it ends before the run does.
  await run.statistics.settle();
}

/** The target table each entity writes, as ferry.flow_targets keeps it (schema-qualified, with its key columns). */
function flowTargets(plan: FlowPlan, system: string): FlowTarget[] {
  return plan.entities.map((e) => ({ entity: e.name, system, table: e.target.schema ? `${e.target.schema}.${e.target.table}` : e.target.table, keys: e.target.keys }));
}

/** Which entities the run syncs and how; a two-way Record run also looks at the target side. */
function select(request: DefaultedRunRequest, plan: FlowPlan, lane: LaneConnections, snapshot: Session): Promise<RunSelection> {
  if (request.spec.direction === 'TwoWay' && request.mode === 'Record' && request.record) {
    return selectTwoWayRecord(
      { spec: request.spec, record: request.record },
      plan,
      { source: snapshot, target: lane.target },
      { client: lane.state.client, flow: request.flowId },
    );
  }
  return selectRun(request, plan, lane.sourceFetch, { connection: lane.state, flow: request.flowId });
}

/** Runs each selected entity's pass on the lanes (or applies Resolve decisions); Full passes end by deleting vanished rows, children first. */
async function syncEntities(
  request: DefaultedRunRequest,
  plan: FlowPlan,
  selection: RunSelection,
  lanes: Lanes,
  contexts: EntitySyncContext[],
  results: Map<string, EntityResult>,
  statistics: StatisticsRefresh,
  /** Filled with the pairs by category of the entities whose pairs the run knows exactly (see PairLedger). */
  knownPairs: Map<string, CategoryCounts>,
): Promise<void> {
  const logger: Logger = request.logger;
  const twoWay = request.spec.direction === 'TwoWay';
  if (request.mode === 'Resolve') {
    for (const [name, result] of await applyResolutions(plan, request.resolutions ?? [], await lanes.twoWayContext(contexts[0]))) results.set(name, result);
    return;
  }
  const syncs = new Map<string, EntitySync>();
  await runInDependencyOrder(selection.entities, contexts, async (entity, lane) => {
    // A pass may look pairs up by key (its own, or a parent's for lookups): after the statistics asked for before it.
    await statistics.settle();
    logger.info({ entity: entity.name, mode: request.mode }, 'syncing entity');
    if (twoWay) {
      results.set(entity.name, await runPass(new TwoWayEntitySync(entity, await lanes.twoWayContext(lane)), selection.pass(entity.name)));
      return;
    }
    const sync = new EntitySync(entity, lane);
    syncs.set(entity.name, sync);
    results.set(entity.name, await runPass(sync, selection.pass(entity.name)));
  });
  if (twoWay) return;
  // Full runs delete what vanished; other runs what a source reported deleted (delta files' markers).
  const deleting = selection.deleteVanished ? selection.entities : selection.entities.filter((e) => syncs.get(e.name)?.marksDeletions);
  for (const entity of [...deleting].reverse()) results.set(entity.name, await syncs.get(entity.name)!.deleteVanished());
  for (const [name, sync] of syncs) {
    const counts = sync.knownPairCounts;
    if (counts) knownPairs.set(name, counts);
  }
}
