import { FerryError } from '../../util/errors.js';
import type { EntityResult } from '../one-way/context.js';
import type { EntityPlan } from '../plan.js';
import type { EntityReport, RunReport } from '../report.js';
import type { TwoWayResult } from '../two-way/batch.js';

/** One entity's line of the run report; an entity the run never reached reports zeros. */
export function entityReport(plan: EntityPlan, result: EntityResult | undefined): EntityReport {
  const c = result?.counters;
  return {
    name: plan.name,
    read: c?.read ?? 0,
    created: c?.created ?? 0,
    updated: c?.updated ?? 0,
    unchanged: c?.unchanged ?? 0,
    archived: c?.archived ?? 0,
    deleted: c?.deleted ?? 0,
    rejected: c?.rejected ?? 0,
    linked: c?.linked ?? 0,
    skipped: c?.skipped ?? 0,
    sourceGone: c?.sourceGone ?? 0,
    durationMs: c?.durationMs ?? 0,
    notes: result?.notes ?? [],
    ...(result?.recoveredCreates ? { recoveredCreates: result.recoveredCreates } : {}),
    ...(result && 'twoWay' in result ? { twoWay: (result as TwoWayResult).twoWay } : {}),
  };
}

/** A run that started and failed; carries its (partial) report. */
export class RunFailedError extends FerryError {
  constructor(
    readonly report: RunReport,
    exitCode: number,
    cause: unknown,
  ) {
    super(report.error ?? 'sync failed', exitCode, { cause });
    this.name = 'RunFailedError';
  }
}
