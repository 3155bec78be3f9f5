import { pairsBySourceKeys, type StoredPair } from '../store/pairs.js';
import type { StateConnection } from '../store/state-connection.js';
import type { Row, Session } from './connector.js';
import type { EntityPlan } from './plan.js';

/** A Record run's rows of one entity, read before any entity is written. */
export interface PrefetchedRows {
  /** Source rows in the layout of `SOURCE_LAYOUT`. */
  rows: Row[];
  /** Existing pairs of those rows, by encoded source key. */
  pairs: Map<string, StoredPair>;
}

/**
 * Reads every closure row from the source (in as few round trips as the connector allows, in the
 * run's snapshot) and their pairs from the state DB (one query). An entity's pairs change only
 * while that entity is synced, so reading them before the run starts is safe.
 */
export async function prefetchClosure(
  source: Session,
  state: StateConnection,
  flow: string,
  plans: Map<string, EntityPlan>,
  keys: Map<string, string[][]>,
  batchSize: number,
): Promise<Map<string, PrefetchedRows>> {
  const requests: { entity: string; plan: EntityPlan; keys: string[][] }[] = [];
  for (const [entity, list] of keys) {
    const plan = plans.get(entity)!;
    for (let i = 0; i < list.length; i += batchSize) requests.push({ entity, plan, keys: list.slice(i, i + batchSize) });
  }
  const out = new Map<string, PrefetchedRows>([...keys.keys()].map((entity) => [entity, { rows: [], pairs: new Map() }]));
  const results = await source.prefetch(requests);
  requests.forEach((request, i) => out.get(request.entity)!.rows.push(...results[i]));

  const encoded = new Map([...keys].map(([entity, list]) => [entity, list.map((parts) => plans.get(entity)!.source.codec.encode(parts)!)]));
  for (const [entity, pairs] of await pairsBySourceKeys(state.client, flow, encoded)) out.get(entity)!.pairs = pairs;
  return out;
}
