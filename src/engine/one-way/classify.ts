import type { StoredPair } from '../../store/pairs.js';
import type { EntityPlan } from '../plan.js';
import type { SourceRecord, WriteItem } from './source-records.js';
import type { EntityTally } from './tally.js';

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
    if (plan.actions.has('createInTarget') || matching) return { record, kind: 'new' };
    tally.counters.skipped++;
    return undefined;
  }
  if (pair.sourceGone) return { record, kind: 'reappeared', pair };
  if (pair.sourceHash !== record.hash) {
    if (plan.actions.has('updateTarget') || plan.actions.has('updateNewerWins')) return { record, kind: 'changed', pair };
    tally.counters.skipped++;
    return undefined;
  }
  tally.counters.unchanged++;
  return undefined;
}
