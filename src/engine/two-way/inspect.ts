import type { Logger } from 'pino';
import { withFlowDefaults } from '../../api/defaults.js';
import type { SyncFlowSpec, PairCategory } from '../../api/syncflow.js';
import { RunState } from '../../store/run-state.js';
import { databaseOf } from '../../api/systems.js';
import { StateConnection } from '../../store/state-connection.js';
import type { Connector, Session } from '../connector.js';
import { LookupTranslator } from '../lookups.js';
import { planFlow, type FlowPlan } from '../plan.js';
import { Transactions } from '../transactions.js';
import { TwoWayBatches, type TwoWayContext } from './batch.js';
import { differingFields } from './decide.js';

export interface PairListing {
  entity: string;
  sourceKey: string;
  targetKey: string;
  category: PairCategory;
  lastSyncedAt: string;
  lastOrigin: string;
  /** Fields whose values differ, as each system stores them (lookups translated for the comparison). */
  differences: { source: string; target: string; sourceValue: string | null; targetValue: string | null }[];
  sourceMissing: boolean;
  targetMissing: boolean;
}

export interface ListPairsRequest {
  flowId: string;
  spec: SyncFlowSpec;
  connectors: { source: Connector; target: Connector };
  stateUrl: string;
  entity?: string;
  category?: PairCategory;
  limit: number;
  logger: Logger;
}

/** Plans any flow with reverse plans, so both sides can be read the same way (listing never writes). */
async function inspectionPlan(spec: SyncFlowSpec, source: Session, target: Session): Promise<FlowPlan> {
  const tables = {
    source: await source.readCatalog(databaseOf(spec.source, 'source')?.namespace ?? '', spec.entities.map((e) => e.source.table)),
    target: await target.readCatalog(databaseOf(spec.target, 'target')?.namespace ?? '', spec.entities.map((e) => e.target.table)),
  };
  const readOnly = withFlowDefaults({ ...spec, direction: 'TwoWay', entities: spec.entities.map((e) => ({ ...e, actions: ['link'] })) });
  return planFlow(readOnly, (side, table) => tables[side].get(table));
}

/**
 * `ferry pairs`: the pairs of a flow, optionally of one entity and category, with the values that
 * differ between the two systems (what a user needs to resolve a conflict).
 */
export async function listPairs(request: ListPairsRequest): Promise<PairListing[]> {
  const { connectors } = request;
  const [source, sourceFetch, target, targetStream] = await Promise.all([
    connectors.source.open(),
    connectors.source.open(),
    connectors.target.open(),
    connectors.target.open(),
  ]);
  const state = await StateConnection.open(request.stateUrl);
  const clients = [source, sourceFetch, target, targetStream, state];
  try {
    const plan = await inspectionPlan(request.spec, source, target);
    const plans = new Map(plan.entities.map((e) => [e.name, e]));
    const context: TwoWayContext = {
      flow: request.flowId,
      runId: 'inspection',
      batchSize: request.limit,
      tx: new Transactions(true),
      source,
      sourceFetch,
      target,
      targetStream,
      state,
      stateStream: state,
      runState: new RunState(state.client, request.flowId, 'inspection'),
      lookups: new LookupTranslator(state, request.flowId, plans),
      logger: request.logger,
      rejectSampleLimit: 0,
      windowSeconds: 0,
    };
    const out: PairListing[] = [];
    for (const entity of plan.entities) {
      if (request.entity && entity.name !== request.entity) continue;
      const batches = new TwoWayBatches(entity, context);
      const pairs = await batches.pairs.byCategory(request.category, request.limit - out.length);
      if (pairs.length === 0) continue;
      const candidates = await batches.candidates({ sourceKeys: pairs.map((p) => p.sourceKey), targetKeys: [] });
      const mappings = batches.sides.source.mappings;
      for (const c of candidates) {
        const pair = c.pair!;
        const differences =
          c.source && c.target
            ? differingFields(c.source, c.target).map((m) => ({
                source: mappings[m].source,
                target: mappings[m].target,
                sourceValue: c.source!.raw[m],
                targetValue: c.target!.raw[m],
              }))
            : [];
        out.push({
          entity: entity.name,
          sourceKey: batches.sides.source.codec.decode(pair.sourceKey).join(','),
          targetKey: batches.sides.target.codec.decode(pair.targetKey).join(','),
          category: pair.category,
          lastSyncedAt: pair.lastSyncedAt.toISOString(),
          lastOrigin: pair.lastOrigin,
          differences,
          sourceMissing: !c.source,
          targetMissing: !c.target,
        });
      }
      if (out.length >= request.limit) break;
    }
    return out;
  } finally {
    for (const client of clients) await client.close().catch(() => {});
  }
}
