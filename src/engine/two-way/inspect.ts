import type { Logger } from 'pino';
import type { SyncFlowSpec, PairCategory } from '../../api/syncflow.js';
import { RunState } from '../../store/run-state.js';
import { connect } from '../../connectors/postgres/connect.js';
import { PostgresSession } from '../../connectors/postgres/session.js';
import { StateConnection } from '../../store/state-connection.js';
import { LookupTranslator } from '../lookups.js';
import { readTable, type TableInfo } from '../../connectors/postgres/catalog.js';
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
  sourceUrl: string;
  targetUrl: string;
  stateUrl: string;
  entity?: string;
  category?: PairCategory;
  limit: number;
  logger: Logger;
}

/** Plans any flow with reverse plans, so both sides can be read the same way (listing never writes). */
async function inspectionPlan(spec: SyncFlowSpec, source: Parameters<typeof readTable>[0], target: Parameters<typeof readTable>[0]): Promise<FlowPlan> {
  const tables = { source: new Map<string, TableInfo | undefined>(), target: new Map<string, TableInfo | undefined>() };
  for (const e of spec.entities) {
    tables.source.set(e.source.table, await readTable(source, spec.source.postgres?.schema ?? 'public', e.source.table));
    tables.target.set(e.target.table, await readTable(target, spec.target.postgres?.schema ?? 'public', e.target.table));
  }
  const readOnly = { ...spec, direction: 'TwoWay' as const, entities: spec.entities.map((e) => ({ ...e, actions: ['link' as const] })) };
  return planFlow(readOnly, (side, table) => tables[side].get(table));
}

/**
 * `ferry pairs`: the pairs of a flow, optionally of one entity and category, with the values that
 * differ between the two systems (what a user needs to resolve a conflict).
 */
export async function listPairs(request: ListPairsRequest): Promise<PairListing[]> {
  const clients = await Promise.all([
    connect(request.sourceUrl, 'the source database'),
    connect(request.sourceUrl, 'the source database'),
    connect(request.targetUrl, 'the target database'),
    connect(request.targetUrl, 'the target database'),
    connect(request.stateUrl, 'the state database'),
  ]);
  const [source, sourceFetch, target, targetStream] = clients.slice(0, 4).map((client) => new PostgresSession(client));
  const state = new StateConnection(clients[4]);
  try {
    const plan = await inspectionPlan(request.spec, source.client, target.client);
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
    for (const client of clients) await client.end().catch(() => {});
  }
}
