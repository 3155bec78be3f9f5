import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SyncMode } from '../api/common.js';
import { databaseOf } from '../api/systems.js';
import type { SyncFlowSpec } from '../api/syncflow.js';
import { openStateStore } from '../store/db.js';
import { PairStore } from '../store/pairs.js';
import { RunState, type EntityCounters } from '../store/run-state.js';
import { StateConnection } from '../store/state-connection.js';
import { ConfigError, FerryError, FlowBusyError } from '../util/errors.js';
import { runExport, type ExportContext } from '../export/run-export.js';
import { acquireFlowLock, releaseFlowLock } from '../store/run-lock.js';
import { recordRunEnd, recordRunStart } from '../store/run-log.js';
import type { Connector, Session, TableInfo } from './connector.js';
import { EntitySync, type EntityResult, type EntitySyncContext, type RejectedSample } from './entity-sync.js';
import { LookupTranslator, type LookupCache } from './lookups.js';
import { planFlow, type EntityPlan, type FlowPlan } from './plan.js';
import { buildRunReport, type EntityReport, type RunReport } from './report.js';
import { runInDependencyOrder } from './scheduler.js';
import { runPass, selectRun, type RunSelection, type ScopeMode } from './run-selection.js';
import { Transactions } from './transactions.js';
import type { RecordSide, Resolution } from '../api/syncjob.js';
import { loopWindowSeconds } from '../api/defaults.js';
import { TwoWayEntitySync } from './two-way/entity-sync.js';
import type { TwoWayContext, TwoWayResult } from './two-way/batch.js';
import { categoryCounts, pairCategories } from '../store/two-way-pairs.js';
import { applyResolutions } from './resolve.js';
import { selectTwoWayRecord } from './two-way/record.js';


export interface RunRequest {
  /** `namespace/name`; the identity pairs, watermarks and the run lock are keyed by. */
  flowId: string;
  spec: SyncFlowSpec;
  mode: SyncMode;
  dryRun?: boolean;
  requestedBy?: string;
  runId?: string;
  sourceUrl: string;
  targetUrl: string;
  stateUrl: string;
  /** The systems a sync reads and writes (export flows read `sourceUrl` instead). */
  connectors?: { source: Connector; target: Connector };
  logger: Logger;
  onProgress?: (entity: string, counters: EntityCounters) => void;
  /** Entities synced side by side when their dependencies allow (default 2; a dry run uses 1). */
  parallelEntities?: number;
  /** ExportTargets, their Secrets and a re-transfer request, for flows whose target is an export. */
  export?: ExportContext;
  /** Record mode: the record, by entity and key (composite keys: parts joined by commas); the key is the target's with side Target (TwoWay flows). */
  record?: { entity: string; key: string; side?: RecordSide };
  /** Scope mode: the flow's scope to run, Full or Incremental within it (default Incremental). */
  scope?: string;
  scopeMode?: ScopeMode;
  /** Resolve mode: decisions on pairs (keep a side's values, (de)activate, link, unlink). */
  resolutions?: Resolution[];
}

const SUPPORTED_MODES = new Set<SyncMode>(['Full', 'Incremental', 'Scope', 'Record', 'Resolve']);
const REJECT_SAMPLE_LIMIT = 100;
const DEFAULT_PARALLEL_ENTITIES = 2;

async function readCatalog(spec: SyncFlowSpec, source: Session, target: Session) {
  const [sourceTables, targetTables] = await Promise.all([
    source.readCatalog(databaseOf(spec.source, 'source')?.namespace ?? '', spec.entities.map((e) => e.source.table)),
    target.readCatalog(databaseOf(spec.target, 'target')?.namespace ?? '', spec.entities.map((e) => e.target.table)),
  ]);
  const tables: Record<'source' | 'target', Map<string, TableInfo>> = { source: sourceTables, target: targetTables };
  return (side: 'source' | 'target', table: string) => tables[side].get(table);
}

/** A dry run must roll back everything it wrote: refuse when a table it writes cannot. */
function refuseDryRunWithout(catalog: (side: 'source' | 'target', table: string) => TableInfo | undefined, spec: SyncFlowSpec): void {
  const sides: ('source' | 'target')[] = spec.direction === 'TwoWay' ? ['source', 'target'] : ['target'];
  for (const side of sides) {
    for (const entity of spec.entities) {
      const info = catalog(side, entity[side].table);
      const limits = info?.limitations ?? [];
      if (limits.length > 0) {
        throw new ConfigError(`dry run refused: ${side} table "${entity[side].table}" of entity ${entity.name} cannot roll back (${limits.join('; ')}), so a dry run would write to it`);
      }
    }
  }
}

/**
 * A batch interrupted between its pairs commit and its target commit left a marker. Compare the
 * marked pairs with the target: rows that did not land (or landed differently) are marked stale so
 * this run rewrites them.
 */
async function recoverInterruptedBatches(runState: RunState, plans: Map<string, EntityPlan>, state: StateConnection, target: Session, flowId: string, logger: Logger) {
  for (const marker of await runState.pendingInflight()) {
    const plan = plans.get(marker.entity);
    if (plan) {
      const pairs = new PairStore(state.client, flowId, marker.entity);
      const known = await pairs.bySourceKeys(marker.sourceKeys);
      const targetKeys = [...known.values()].map((p) => plan.target.codec.decode(p.targetKey));
      const current = await target.writer(plan).currentHashes(targetKeys);
      const stale = [...known.values()].filter((p) => current.get(p.targetKey) !== p.targetHash).map((p) => p.sourceKey);
      await pairs.markStale(stale);
      logger.warn({ entity: marker.entity, batch: marker.sourceKeys.length, stale: stale.length }, 'recovered an interrupted batch');
    }
    await runState.endInflight(marker.id);
  }
}

function entityReport(plan: EntityPlan, result: EntityResult | undefined): EntityReport {
  const c = result?.counters;
  return {
    name: plan.name,
    read: c?.read ?? 0,
    created: c?.created ?? 0,
    updated: c?.updated ?? 0,
    unchanged: c?.unchanged ?? 0,
    archived: c?.archived ?? 0,
    deleted: c?.deleted ?? 0,
    rejected: c?.rejected ?? 0,
    linked: c?.linked ?? 0,
    skipped: c?.skipped ?? 0,
    sourceGone: c?.sourceGone ?? 0,
    durationMs: c?.durationMs ?? 0,
    notes: result?.notes ?? [],
    ...(result && 'twoWay' in result ? { twoWay: (result as TwoWayResult).twoWay } : {}),
  };
}

/** A run that started and failed; carries its (partial) report. */
export class RunFailedError extends FerryError {
  constructor(
    readonly report: RunReport,
    exitCode: number,
    cause: unknown,
  ) {
    super(report.error ?? 'sync failed', exitCode, { cause });
    this.name = 'RunFailedError';
  }
}

/** Runs one sync of a flow: the code path shared by `ferry run` and the Kubernetes Job. */
export async function runSync(request: RunRequest): Promise<RunReport> {
  const { flowId, logger } = request;
  const runId = request.runId ?? randomUUID();
  const dryRun = Boolean(request.dryRun);
  if (request.spec.target.export || request.mode === 'Retransfer') {
    const { report, failure } = await runExport({ ...request, runId });
    if (failure instanceof FlowBusyError) throw failure;
    if (failure) throw new RunFailedError(report, failure instanceof FerryError ? failure.exitCode : 1, failure);
    return report;
  }
  if (!SUPPORTED_MODES.has(request.mode)) {
    throw new FerryError(`mode ${request.mode} is not supported yet by this version of the engine (supported: ${[...SUPPORTED_MODES].join(', ')})`, 2);
  }

  const store = await openStateStore(request.stateUrl);
  const opened: { close(): Promise<void> }[] = [];
  const bookkeeping = await store.pool.connect();
  const startedAt = new Date();
  let locked = false;
  const results = new Map<string, EntityResult>();
  let plan: FlowPlan | undefined;
  let selection: RunSelection | undefined;
  let watermarksBefore: RunReport['watermarksBefore'] = {};
  let watermarksAfter: RunReport['watermarksAfter'] = {};
  let failure: unknown;
  let categories: Awaited<ReturnType<typeof categoryCounts>> | undefined;
  let progressSaves: Promise<void> = Promise.resolve();
  try {
    await acquireFlowLock(bookkeeping, flowId, runId);
    locked = true;
    await recordRunStart(bookkeeping, { runId, flow: flowId, mode: request.mode, dryRun, requestedBy: request.requestedBy, startedAt });
    const connectors = request.connectors;
    if (!connectors) throw new ConfigError('a sync run needs source and target connectors');
    const open = async <T extends { close(): Promise<void> }>(opening: Promise<T>): Promise<T> => {
      const session = await opening;
      opened.push(session);
      return session;
    };
    // Connections are opened side by side: one after the other, they were a good part of a short run.
    // All settle before a failure is raised, so every opened connection is in `opened` to be closed.
    const lane = async (): Promise<[Session, Session, Session, StateConnection, StateConnection]> => {
      const sessions = await Promise.allSettled([
        open(connectors.source.open()),
        open(connectors.source.open()),
        open(connectors.target.open()),
      ]);
      const states = await Promise.allSettled([open(StateConnection.open(request.stateUrl)), open(StateConnection.open(request.stateUrl))]);
      const refused = [...sessions, ...states].find((o) => o.status === 'rejected');
      if (refused) throw refused.reason;
      const [source, sourceFetch, target] = sessions.map((o) => (o as PromiseFulfilledResult<Session>).value);
      const [state, stateStream] = states.map((o) => (o as PromiseFulfilledResult<StateConnection>).value);
      return [source, sourceFetch, target, state, stateStream];
    };
    const [source, sourceFetch, target, state, stateStream] = await lane();

    const catalog = await readCatalog(request.spec, source, target);
    if (dryRun) refuseDryRunWithout(catalog, request.spec);
    plan = planFlow(request.spec, catalog);
    const plans = new Map(plan.entities.map((e) => [e.name, e]));
    const runState = new RunState(state.client, flowId, runId);
    watermarksBefore = await runState.readAllWatermarks();
    await recoverInterruptedBatches(runState, plans, state, target, flowId, logger);
    const twoWay = request.spec.direction === 'TwoWay';
    // A Record run reads its closure and then its rows in one snapshot (it runs on one lane). Two-way
    // runs write the source on sourceFetch, so they read the closure in a snapshot on the other connection.
    const snapshot = twoWay ? source : sourceFetch;
    if (request.mode === 'Record') await snapshot.beginSnapshot();
    selection =
      twoWay && request.mode === 'Record' && request.record
        ? await selectTwoWayRecord(
            { spec: request.spec, record: request.record },
            plan,
            { source: snapshot, target },
            { client: state.client, flow: flowId },
          )
        : await selectRun(request, plan, sourceFetch, { connection: state, flow: flowId });
    const selected = selection;

    // Progress goes to run_entities at most once a second per entity, on the otherwise idle bookkeeping connection.
    const progressState = new RunState(bookkeeping, flowId, runId);
    const lastSaved = new Map<string, number>();
    const saveProgress = (entity: string, counters: EntityCounters) => {
      const now = Date.now();
      if (now - (lastSaved.get(entity) ?? 0) < 1000) return;
      lastSaved.set(entity, now);
      const snapshot = { ...counters };
      // One query at a time on the connection: chain the saves instead of piling them up.
      progressSaves = progressSaves.then(() => progressState.saveCounters(entity, plans.get(entity)!.position, snapshot)).catch(() => {});
    };
    const tx = new Transactions(dryRun);
    await tx.open(state);
    await tx.open(target);
    // Two-way runs write the source too (on the lanes' sourceFetch connections).
    if (twoWay) await tx.open(sourceFetch);
    const lookupCache: LookupCache = new Map();
    const laneContext = ([source, sourceFetch, target, state, stateStream]: Awaited<ReturnType<typeof lane>>): EntitySyncContext => ({
      flow: flowId,
      runId,
      batchSize: plan!.batchSize,
      tx,
      source,
      sourceFetch,
      target,
      state,
      stateStream,
      runState: new RunState(state.client, flowId, runId),
      lookups: new LookupTranslator(state, flowId, plans, lookupCache, request.mode !== 'Record'),
      missingParentHint: selected.missingParentHint,
      logger,
      rejectSampleLimit: REJECT_SAMPLE_LIMIT,
      onProgress: (entity, counters) => {
        saveProgress(entity, counters);
        request.onProgress?.(entity, counters);
      },
    });
    // Independent entities (e.g. the child tables of people) sync side by side, each lane on its own
    // connections. A dry run needs every statement in one transaction per database: one lane.
    const laneCount = dryRun || request.mode === 'Record' ? 1 : Math.max(1, request.parallelEntities ?? DEFAULT_PARALLEL_ENTITIES);
    const lanes = [laneContext([source, sourceFetch, target, state, stateStream])];
    for (let i = 1; i < laneCount; i++) lanes.push(laneContext(await lane()));
    const syncs = new Map<string, EntitySync>();
    const twoWayLanes = new Map<EntitySyncContext, TwoWayContext>();
    const twoWayLane = async (lane: EntitySyncContext) => {
      let context = twoWayLanes.get(lane);
      if (!context) {
        const targetStream = await open(connectors.target.open());
        context = {
          ...lane,
          targetStream,
          windowSeconds: loopWindowSeconds(request.spec.loopProtection),
        };
        twoWayLanes.set(lane, context);
      }
      return context;
    };
    if (request.mode === 'Resolve') {
      for (const [name, result] of await applyResolutions(plan, request.resolutions ?? [], await twoWayLane(lanes[0]))) results.set(name, result);
    } else {
      await runInDependencyOrder(selected.entities, lanes, async (entity, lane) => {
        logger.info({ entity: entity.name, mode: request.mode }, 'syncing entity');
        if (twoWay) {
          results.set(entity.name, await runPass(new TwoWayEntitySync(entity, await twoWayLane(lane)), selected.pass(entity.name)));
          return;
        }
        const sync = new EntitySync(entity, lane);
        syncs.set(entity.name, sync);
        results.set(entity.name, await runPass(sync, selected.pass(entity.name)));
      });
    }
    if (request.mode === 'Record') await snapshot.endSnapshot();
    if (selected.deleteVanished && !twoWay) {
      for (const entity of [...selected.entities].reverse()) results.set(entity.name, await syncs.get(entity.name)!.deleteVanished());
    }
    categories = await categoryCounts(state.client, flowId);
    watermarksAfter = dryRun ? watermarksBefore : await runState.readAllWatermarks();
    await tx.close(state);
    await tx.close(target);
    if (twoWay) await tx.close(sourceFetch);
  } catch (error) {
    failure = error;
  }

  const completedAt = new Date();
  const entities = plan ? (selection?.entities ?? plan.entities).map((e) => entityReport(e, results.get(e.name))) : [];
  for (const e of entities) e.categories = pairCategories(categories?.get(e.name), e);
  const rejectedSamples: RejectedSample[] = [...results.values()].flatMap((r) => r.rejected);
  const report: RunReport = buildRunReport({
    runId,
    flow: flowId,
    mode: request.mode,
    subject: selection?.subject,
    dryRun,
    startedAt,
    completedAt,
    watermarksBefore,
    watermarksAfter,
    entities,
    rejectedSamples,
    failure,
  });

  try {
    await progressSaves;
    await Promise.all(opened.map((session) => session.close().catch(() => {})));
    if (locked) {
      await recordRunEnd(bookkeeping, { runId, completedAt, watermarksBefore, watermarksAfter, report });
      const finalState = new RunState(bookkeeping, flowId, runId);
      await finalState.saveAllCounters(entities.map((e, position) => ({ entity: e.name, position, counters: e })));
      await finalState.recordRejected(rejectedSamples.map((r) => ({ entity: r.entity, sourceKey: r.key, reason: r.reason })));
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
