import type { StoredPair } from '../../store/pairs.js';
import type { EntityPlan } from '../plan.js';
import { FreshRecord, type SourceRecord, type WriteItem, type WriteKind } from './source-records.js';
import type { EntityTally } from './tally.js';

/**
 * The pair of a row found unchanged where the pairs are (see key-join.ts SAME_VERSION_PAIR): it holds
 * the row's hash and its source row is not gone. Compared by identity; its fields are never read.
 */
export const UNCHANGED_PAIR: StoredPair = Object.freeze({ sourceKey: '', targetKey: '', sourceHash: null, targetHash: null, sourceGone: false });

/**
 * Decides what one source row needs, given its pair (if any): a write (new, changed or reappeared),
 * or nothing (unchanged, out of scope, or an action the flow does not allow). `matching` says new
 * rows may still link to existing target rows.
 */
export function classify(plan: EntityPlan, record: SourceRecord, pair: StoredPair | undefined, matching: boolean, tally: EntityTally): WriteItem | undefined {
  if (!record.inScope) {
    tally.counters.skipped++;
    return undefined;
  }
  if (!pair) {
    if (plan.actions.has('createInTarget') || matching) return writeItem(record, 'new', undefined);
    tally.counters.skipped++;
    return undefined;
  }
  if (pair.sourceGone) return writeItem(record, 'reappeared', pair);
  if (pair !== UNCHANGED_PAIR && pair.sourceHash !== record.hash) {
    if (plan.actions.has('updateTarget') || plan.actions.has('updateNewerWins')) return writeItem(record, 'changed', pair);
    tally.counters.skipped++;
    return undefined;
  }
  tally.counters.unchanged++;
  return undefined;
}

/**
 * An item with every field it may get later in place (undefined until then): set on the way, a
 * field missing from the object's shape would add a property store per item of every batch.
 */
function writeItem(record: SourceRecord, kind: WriteKind, pair: StoredPair | undefined): WriteItem {
  // A fresh record (a first import's plain path) is its own write item: no second object per row.
  if (record instanceof FreshRecord && kind === 'new' && pair === undefined) return record;
  return { record, kind, pair, targetKey: undefined, linked: undefined, awaitsKey: undefined, freshRow: undefined };
}
