/** How a `related` child collection hangs off its parent: shared by validation and the engine's closure. */

interface LookupField {
  source: string;
  lookup?: string;
}

interface RelatedRef {
  entity: string;
  via?: string;
  includeReferenced?: string[];
}

export type RelationColumn = { column: string } | { problem: string };

/**
 * The child's source column holding the parent's source key: `via` when given (it must be a field
 * with a lookup to the parent), otherwise the child's only such field.
 */
export function relationColumn(parent: string, child: { name: string; fields: readonly LookupField[] }, related: RelatedRef): RelationColumn {
  const candidates = child.fields.filter((f) => f.lookup === parent).map((f) => f.source);
  if (related.via !== undefined) {
    if (candidates.includes(related.via)) return { column: related.via };
    return { problem: `"${related.via}" is not a field of entity "${child.name}" with lookup: ${parent}` };
  }
  if (candidates.length === 1) return { column: candidates[0] };
  if (candidates.length === 0) {
    return { problem: `entity "${child.name}" has no field with lookup: ${parent}, so its rows cannot be found for a ${parent} record` };
  }
  return { problem: `entity "${child.name}" has several fields with lookup: ${parent} (${candidates.join(', ')}): choose one with via` };
}

/** Problems with `includeReferenced`: each column must be a lookup field of the child. */
export function referencedColumnProblems(child: { name: string; fields: readonly LookupField[] }, related: RelatedRef): { index: number; problem: string }[] {
  const lookups = new Set(child.fields.filter((f) => f.lookup).map((f) => f.source));
  return (related.includeReferenced ?? []).flatMap((column, index) =>
    lookups.has(column) ? [] : [{ index, problem: `"${column}" is not a field of entity "${child.name}" with a lookup` }],
  );
}
