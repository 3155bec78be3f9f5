import { PairStore } from '../store/pairs.js';
import type { StateConnection } from '../store/state-connection.js';
import { IntegerKeyMap } from './integer-key-map.js';
import type { KeyCodec } from './keys.js';
import type { EntityPlan } from './plan.js';

/** Above this many pairs a referenced entity is queried per batch instead of kept as a map of strings, to bound memory. */
const CACHE_LIMIT = 50_000;
/** Integer-keyed entities are kept compactly (16 bytes a pair) up to this many pairs. */
const INTEGER_CACHE_LIMIT = 4_000_000;
/**
 * A larger integer-keyed entity is loaded whole once the lookups asked of it reach this share of its
 * pairs: a Full load soon does, an Incremental run of a few changes keeps asking per batch.
 */
const LOAD_WHOLE_AFTER_SHARE = 0.02;

/** A referenced entity queried per batch: how many pairs it has, and whether it could be kept compactly. */
interface Uncached {
  pairs: number;
  compactable: boolean;
}

/**
 * The pairs of referenced entities, shared by all lanes of a run: encoded keys for small entities,
 * plain integers for integer-keyed ones up to INTEGER_CACHE_LIMIT, or how to ask per batch.
 */
export type LookupCache = Map<string, Promise<Map<string, string> | IntegerKeyMap | Uncached>>;

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

  private readonly askedCounts = new Map<string, number>();

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
    const [from, to] = toTarget ? [plan.source.codec, plan.target.codec] : [plan.target.codec, plan.source.codec];
    let pending = this.caches.get(cacheKey);
    if (pending === undefined) {
      pending = this.firstLook(store, toTarget, from, to);
      this.caches.set(cacheKey, pending);
    }
    let cache = await pending;
    if (isUncached(cache) && cache.compactable && this.asked(cacheKey, values.size) >= LOAD_WHOLE_AFTER_SHARE * cache.pairs) {
      // Another lane may have started the load already.
      if (this.caches.get(cacheKey) === pending) {
        const { pairs } = cache;
        const whole = IntegerKeyMap.load(store.streamKeys(this.state.client, toTarget ? 'source' : 'target'), from, to);
        this.caches.set(cacheKey, whole.then((map) => map ?? { pairs, compactable: false }));
      }
      cache = await this.caches.get(cacheKey)!;
    }
    if (cache instanceof IntegerKeyMap) {
      const out = new Map<string, string>();
      for (const value of values) {
        const otherKey = cache.get(value);
        if (otherKey !== undefined) out.set(value, otherKey);
      }
      return out;
    }
    const encoded = new Map<string, string>();
    for (const value of values) {
      const key = from.encode([value]);
      if (key !== undefined) encoded.set(key, value);
    }
    const wanted = [...encoded.keys()];
    const found = !isUncached(cache) ? cache : await store.otherKeys(toTarget ? 'source' : 'target', wanted);
    const out = new Map<string, string>();
    for (const [key, value] of encoded) {
      const otherKey = found.get(key);
      if (otherKey !== undefined) out.set(value, to.decode(otherKey)[0]);
    }
    return out;
  }

  /** A small entity is loaded as a map at once; a larger one is asked per batch until it is asked enough. */
  private async firstLook(store: PairStore, toTarget: boolean, from: KeyCodec, to: KeyCodec): Promise<Map<string, string> | Uncached> {
    if (!this.cacheWholeEntities) return { pairs: 0, compactable: false };
    const pairs = await store.count();
    if (pairs > CACHE_LIMIT) return { pairs, compactable: IntegerKeyMap.fits(from, to) && pairs <= INTEGER_CACHE_LIMIT };
    return store.allKeys(this.state.client, toTarget ? 'source' : 'target');
  }

  /** Adds `count` to the values asked of an entity through this translator; returns the total. */
  private asked(cacheKey: string, count: number): number {
    const total = (this.askedCounts.get(cacheKey) ?? 0) + count;
    this.askedCounts.set(cacheKey, total);
    return total;
  }

  /** Forgets cached maps of an entity whose pairs this run changed (two-way flows create pairs in both directions). */
  invalidate(entity: string): void {
    this.caches.delete(entity);
    this.caches.delete(`${entity}:toSource`);
  }
}

function isUncached(cache: Map<string, string> | IntegerKeyMap | Uncached): cache is Uncached {
  return !(cache instanceof Map) && !(cache instanceof IntegerKeyMap);
}
