import type { PaginationStyle } from '../../api/http.js';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import { fieldPath } from '../../api/validation-error.js';
import { resolveResource, type ResolvedResource } from './resource.js';

/**
 * Pages that are positions in the API's order: a record created, deleted or moved while a list is
 * read shifts the ones after it across a page boundary, so one is listed twice and another never.
 * Cursor and next-link pagination leave the position to the server.
 */
const POSITIONAL: readonly PaginationStyle[] = ['PageNumber', 'OffsetLimit'];
/** A list query parameter that already orders the list (orderby, sort, order_by, ...). */
const ORDERING_PARAM = /sort|order/i;

/** Why a resource's list may page inconsistently, or undefined when it is sorted or not paged by position. */
export function unstableListNote(resource: ResolvedResource, entity: string, path: string): string | undefined {
  const style = resource.list.pagination.style;
  if (!POSITIONAL.includes(style) || resource.sort.length > 0 || resource.list.query.some(([name]) => ORDERING_PARAM.test(name))) return undefined;
  return (
    `entity ${entity}: the API resource ${resource.name} is paged by position (${style}) with no sort parameter, so records changing while it is listed ` +
    `can be listed twice or missed (a Full run may then take a missed record for gone); set ${path}.sort to a stable order, e.g. orderby=id`
  );
}

/** The notes for every http side of a flow whose list pages without a stable order (a spec that does not resolve gets none: the run says why). */
export function unstableListNotes(spec: SyncFlowSpec): string[] {
  const notes: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const endpoint = spec[side].http;
    if (!endpoint) continue;
    (spec.entities ?? []).forEach((entity, i) => {
      const resource = entity[side].resource;
      if (!resource) return;
      const path = fieldPath('spec', 'entities', i, side, 'resource');
      let resolved: ResolvedResource;
      try {
        resolved = resolveResource(endpoint, resource, entity[side].table, path);
      } catch {
        return;
      }
      const note = unstableListNote(resolved, entity.name, path);
      if (note) notes.push(note);
    });
  }
  return notes;
}
