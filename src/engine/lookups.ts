import type pg from 'pg';
import { PairStore } from '../store/pairs.js';
import type { EntityPlan } from './plan.js';

/** Above this many pairs a referenced entity is queried per batch instead of cached, to bound memory. */
const CACHE_LIMIT = 50_000;

/** Source key -> target key maps of small referenced entities, shared by all lanes of a run. */
export type LookupCache = Map<string, Promise<Map<string, string> | 'uncached'>>;

/**
 * Translates foreign-key values from source keys to the referenced entity's target keys, through
 * the pairs that entity's sync recorded.
 */
export class LookupTranslator {
  constructor(
    private readonly stateClient: pg.ClientBase,
    private readonly flow: string,
    private readonly plans: Map<string, EntityPlan>,
    private readonly caches: LookupCache = new Map(),
  ) {}

  /** Plain source values -> plain target key value; values without a pair are absent. */
  async translate(entity: string, values: Set<string>): Promise<Map<string, string>> {
    const plan = this.plans.get(entity);
    if (!plan) throw new Error(`lookup to unknown entity ${entity}`);
    const store = new PairStore(this.stateClient, this.flow, entity);
    let pending = this.caches.get(entity);
    if (pending === undefined) {
      pending = (async () => ((await store.count()) <= CACHE_LIMIT ? store.allTargetKeys(this.stateClient) : 'uncached'))();
      this.caches.set(entity, pending);
    }
    const cache = await pending;
    const encoded = new Map<string, string>();
    for (const value of values) {
      const key = plan.source.codec.encode([value]);
      if (key !== undefined) encoded.set(key, value);
    }
    const found = cache === 'uncached' ? await store.targetKeysFor([...encoded.keys()]) : cache;
    const out = new Map<string, string>();
    for (const [key, value] of encoded) {
      const targetKey = found.get(key);
      if (targetKey !== undefined) out.set(value, plan.target.codec.decode(targetKey)[0]);
    }
    return out;
  }

}
