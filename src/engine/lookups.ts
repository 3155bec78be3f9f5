import { PairStore } from '../store/pairs.js';
import type { StateConnection } from '../store/state-connection.js';
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
    private readonly state: StateConnection,
    private readonly flow: string,
    private readonly plans: Map<string, EntityPlan>,
    private readonly caches: LookupCache = new Map(),
    /** False for runs that touch a handful of rows (Record mode): look keys up instead of loading every pair. */
    private readonly cacheWholeEntities = true,
  ) {}

  /**
   * Plain source values -> plain target key value (`toTarget`), or, for two-way flows writing the
   * source, plain target values -> plain source key value (`toSource`); values without a pair are absent.
   */
  async translate(entity: string, values: Set<string>, direction: 'toTarget' | 'toSource' = 'toTarget'): Promise<Map<string, string>> {
    const plan = this.plans.get(entity);
    if (!plan) throw new Error(`lookup to unknown entity ${entity}`);
    const toTarget = direction === 'toTarget';
    const store = new PairStore(this.state.client, this.flow, entity);
    const cacheKey = toTarget ? entity : `${entity}:toSource`;
    let pending = this.caches.get(cacheKey);
    if (pending === undefined && !this.cacheWholeEntities) pending = Promise.resolve('uncached' as const);
    if (pending === undefined) {
      pending = (async () =>
        (await store.count()) <= CACHE_LIMIT
          ? toTarget
            ? store.allTargetKeys(this.state.client)
            : store.allSourceKeys(this.state.client)
          : 'uncached')();
      this.caches.set(cacheKey, pending);
    }
    const cache = await pending;
    const [from, to] = toTarget ? [plan.source.codec, plan.target.codec] : [plan.target.codec, plan.source.codec];
    const encoded = new Map<string, string>();
    for (const value of values) {
      const key = from.encode([value]);
      if (key !== undefined) encoded.set(key, value);
    }
    const wanted = [...encoded.keys()];
    const found = cache !== 'uncached' ? cache : toTarget ? await store.targetKeysFor(wanted) : await store.sourceKeysFor(wanted);
    const out = new Map<string, string>();
    for (const [key, value] of encoded) {
      const otherKey = found.get(key);
      if (otherKey !== undefined) out.set(value, to.decode(otherKey)[0]);
    }
    return out;
  }

  /** Forgets cached maps of an entity whose pairs this run changed (two-way flows create pairs in both directions). */
  invalidate(entity: string): void {
    this.caches.delete(entity);
    this.caches.delete(`${entity}:toSource`);
  }

}
