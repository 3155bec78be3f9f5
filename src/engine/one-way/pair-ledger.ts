import type { PairStore } from '../../store/pairs.js';
import type { CategoryCounts } from '../two-way/types.js';

/**
 * PairStore methods that write no pair (reads, and the builders of new pairs' COPY data), plus
 * `insertNewPairs`, whose pairs a grouped batch counts once their transaction has committed
 * (grouped-batches.ts `commitPairs`). Any other method called on an entity's pairs may write some.
 */
const NOT_UNCOUNTED = new Set<string>([
  'count',
  'bySourceKeys',
  'byTargetKeys',
  'otherKeys',
  'pairedSourceKeys',
  'pairedTargetKeys',
  'streamBySourceKey',
  'streamByTargetKey',
  'streamGone',
  'streamKeys',
  'allKeys',
  'newPairs',
  'newPairSources',
  'insertNewPairs',
]);

/**
 * An entity's pairs as the run knows them, so its report need not count them in the state database
 * (a scan of every pair of the entity: ~0.3 s per 1M pairs, and more when they were just loaded).
 * Known only in one case, where the count is exact: a Full pass that began without any pair of the
 * entity (counted under the flow lock, which no other writer of its pairs runs without) and then
 * wrote them only as new pairs of grouped batches, each counted when its transaction committed, all
 * of them 'synchronised' (the column's default). Any other call that may write a pair makes the
 * pairs unknown for the rest of the run, and the report counts them in the database.
 */
export class PairLedger {
  private committed: number | undefined;

  /** `pairs`, with every call that may write a pair uncounted making the ledger unknown. */
  watch(pairs: PairStore): PairStore {
    return new Proxy(pairs, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        // Called on the store itself: what a method calls inside is that method's doing.
        if (typeof property === 'string' && NOT_UNCOUNTED.has(property)) return value.bind(target);
        return (...args: unknown[]) => {
          this.committed = undefined;
          return value.apply(target, args);
        };
      },
    });
  }

  /** The pass found no pair of the entity at its start. */
  startEmpty(): void {
    this.committed = 0;
  }

  /** A grouped batch's transaction committed `count` new pairs. */
  newPairsCommitted(count: number): void {
    if (this.committed !== undefined) this.committed += count;
  }

  /** The entity's pairs by category, when known. */
  counts(): CategoryCounts | undefined {
    if (this.committed === undefined) return undefined;
    return this.committed > 0 ? { synchronised: this.committed } : {};
  }
}
