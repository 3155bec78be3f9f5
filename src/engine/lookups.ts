import type pg from 'pg';
import { PairStore } from '../store/pairs.js';
import type { EntityPlan } from './plan.js';

/** Above this many pairs a referenced entity is queried per batch instead of cached, to bound memory. */
const CACHE_LIMIT = 100_000;

/**
 * Translates foreign-key values from source keys to the referenced entity's target keys, through
 * the pairs that entity's sync recorded.
 */
export class LookupTranslator {
  private caches = new Map<string, Map<string, string> | 'uncached'>();

  constructor(
    private readonly stateClient: pg.ClientBase,
    private readonly flow: string,
    private readonly plans: Map<string, EntityPlan>,
  ) {}

  /** Plain source values -> plain target key value; values without a pair are absent. */
  async translate(entity: string, values: Set<string>): Promise<Map<string, string>> {
    const plan = this.plans.get(entity);
    if (!plan) throw new Error(`lookup to unknown entity ${entity}`);
    const store = new PairStore(this.stateClient, this.flow, entity);
    let cache = this.caches.get(entity);
    if (cache === undefined) {
      cache = (await store.count()) <= CACHE_LIMIT ? await store.allTargetKeys(this.stateClient) : 'uncached';
      this.caches.set(entity, cache);
    }
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

  /** Drops a cached entity, e.g. after its pairs changed. */
  invalidate(entity: string): void {
    this.caches.delete(entity);
  }
}
