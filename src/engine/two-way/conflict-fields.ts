import type { ConflictFieldChanges } from '../../store/conflict-fields.js';
import type { FieldPlan } from '../plan.js';
import { differingFields, type Candidate, type Decision } from './decide.js';

const changedAt = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000));

/**
 * What a batch changes in the recorded conflicts (seed 003's synchronisation window): every pair that
 * is a conflict after the batch gets its differing fields with both systems' values and change times,
 * refreshed each run; every pair that is no longer one loses them. Values are as each system stores them.
 */
export function conflictFieldChanges(
  planned: { candidate: Candidate; decision: Decision }[],
  mappings: FieldPlan[],
): ConflictFieldChanges {
  const changes: ConflictFieldChanges = { conflicts: [], settled: [] };
  for (const p of planned) {
    const { source, target, pair } = p.candidate;
    const conflict = p.decision.category === 'conflict' && p.decision.pair !== 'drop';
    if (conflict && source && target) {
      const sourceKey = pair?.sourceKey ?? source.key;
      const fields = differingFields(source, target).map((m, position) => ({
        field: mappings[m].source,
        targetField: mappings[m].target,
        position,
        sourceValue: source.raw[m],
        targetValue: target.raw[m],
        sourceChangedAt: changedAt(source.modifiedAt),
        targetChangedAt: changedAt(target.modifiedAt),
      }));
      changes.conflicts.push({ sourceKey, fields });
    } else if (pair && !conflict) {
      changes.settled.push(pair.sourceKey);
    }
  }
  return changes;
}
