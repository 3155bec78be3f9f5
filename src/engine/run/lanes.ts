import type { Logger } from 'pino';
import { RunState, type EntityCounters } from '../../store/run-state.js';
import { LookupTranslator, type LookupCache } from '../lookups.js';
import type { EntitySyncContext } from '../one-way/context.js';
import type { EntityPlan } from '../plan.js';
import type { RunSelection } from '../run-selection.js';
import type { Transactions } from '../transactions.js';
import type { TwoWayContext } from '../two-way/batch.js';
import type { StatisticsRefresh } from './statistics-refresh.js';
import type { LaneConnections, RunConnections } from './connections.js';

const REJECT_SAMPLE_LIMIT = 100;

export interface LaneSettings {
  flowId: string;
  runId: string;
  batchSize: number;
  tx: Transactions;
  plans: Map<string, EntityPlan>;
  selection: RunSelection;
  /** Record runs touch a handful of rows: lookups query keys instead of loading whole entities. */
  cacheLookups: boolean;
  windowSeconds: number;
  logger: Logger;
  onProgress: (entity: string, counters: EntityCounters) => void;
  statistics: StatisticsRefresh;
}

/**
 * The lanes of a run: independent entities (e.g. the child tables of people) sync side by side,
 * each lane on its own connections. Lookup caches are shared by all lanes.
 */
export class Lanes {
  private readonly lookupCache: LookupCache = new Map();
  private readonly twoWay = new Map<EntitySyncContext, TwoWayContext>();

  constructor(
    private readonly settings: LaneSettings,
    private readonly connections: RunConnections,
  ) {}

  /** The first lane reuses the connections the run opened to read catalogs; the others open their own. */
  async open(first: LaneConnections, count: number): Promise<EntitySyncContext[]> {
    const lanes = [this.context(first)];
    for (let i = 1; i < count; i++) lanes.push(this.context(await this.connections.openLane()));
    return lanes;
  }

  private context(connections: LaneConnections): EntitySyncContext {
    const s = this.settings;
    return {
      ...connections,
      flow: s.flowId,
      runId: s.runId,
      batchSize: s.batchSize,
      tx: s.tx,
      runState: new RunState(connections.state.client, s.flowId, s.runId),
      lookups: new LookupTranslator(connections.state, s.flowId, s.plans, this.lookupCache, s.cacheLookups),
      missingParentHint: s.selection.missingParentHint,
      logger: s.logger,
      rejectSampleLimit: REJECT_SAMPLE_LIMIT,
      onProgress: s.onProgress,
      statistics: s.statistics,
    };
  }

  /** A lane as a two-way entity needs it: with a second target session to stream from (opened once per lane). */
  async twoWayContext(lane: EntitySyncContext): Promise<TwoWayContext> {
    let context = this.twoWay.get(lane);
    if (!context) {
      context = { ...lane, targetStream: await this.connections.openTarget(), windowSeconds: this.settings.windowSeconds };
      this.twoWay.set(lane, context);
    }
    return context;
  }
}
