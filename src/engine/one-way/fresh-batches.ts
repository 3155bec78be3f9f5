import { drawsKeys, type FreshBatch } from '../connector.js';
import type { EntityParts } from './parts.js';
import type { WriteItem } from './source-records.js';

/**
 * The target's maker of FreshBatches (capability `TableWriter.freshBatches`) for a pass whose new
 * rows all go the grouped way (grouped-batches.ts): new records under keys drawn from the target,
 * none linked by match columns, no lookup to translate, no key taken from the values, not a dry run.
 * Their values then become the target's bytes as they are read (`Comparison.take`), not when their
 * batch is written: what a batch in flight holds is those bytes, not values that outlive the young generation.
 */
export async function freshBatchMaker(parts: EntityParts): Promise<(() => FreshBatch) | undefined> {
  const { plan, ctx, target } = parts;
  if (!target.freshBatches || !target.copyFreshBatch || ctx.tx.dryRun || parts.matching) return undefined;
  if (plan.target.keyMode !== 'generated' || plan.keyFields.length > 0 || !plan.actions.has('createInTarget')) return undefined;
  if (!drawsKeys(plan.target.keyMode, ctx.target.capabilities) || plan.fields.some((field) => field.lookup)) return undefined;
  return target.freshBatches();
}

/** Gives the items whose values went into `batch` their values back (for a way of writing that needs them). */
export function restoreValues(items: WriteItem[], batch: FreshBatch | undefined): void {
  if (!batch) return;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.freshRow === undefined) continue;
    item.record.values = batch.values(item.freshRow);
    item.freshRow = undefined;
  }
}
