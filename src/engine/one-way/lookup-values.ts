import type { EntityParts } from './parts.js';
import type { WriteItem } from './source-records.js';

/** Replaces foreign-key values with the referenced entity's target keys; rows whose parent is missing are rejected. */
export async function translateLookups(parts: EntityParts, items: WriteItem[]): Promise<WriteItem[]> {
  const { plan, ctx, tally } = parts;
  const lookupFields = [...plan.keyFields, ...plan.fields].map((field, index) => ({ field, index })).filter(({ field }) => field.lookup);
  if (lookupFields.length === 0) return items;
  const rejectedItems = new Set<WriteItem>();
  for (const { field, index } of lookupFields) {
    const wanted = new Set<string>();
    for (const item of items) {
      const value = item.record.values![index];
      if (value !== null) wanted.add(value);
    }
    if (wanted.size === 0) continue;
    const translated = await ctx.lookups.translate(field.lookup!, wanted);
    for (const item of items) {
      if (rejectedItems.has(item)) continue;
      const value = item.record.values![index];
      if (value === null) continue;
      const targetValue = translated.get(value);
      if (targetValue === undefined) {
        rejectedItems.add(item);
        const hint = ctx.missingParentHint?.(field.lookup!, value);
        tally.reject(item.record.key!, `${field.source} = ${value}: no synced ${field.lookup} record with that key (missing parent${hint ? `; ${hint}` : ''})`);
      } else {
        item.record.values![index] = targetValue;
      }
    }
  }
  return items.filter((item) => !rejectedItems.has(item));
}
