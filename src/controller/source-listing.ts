import picomatch from 'picomatch';
import { LISTED_ENTITIES, LISTED_FILES_PER_ENTITY, LISTED_NAME_LENGTH, type SourceListing, type SyncFlowSpec } from '../api/syncflow.js';
import { belongsTo, type LocationListing } from '../connectors/files/file-status.js';
import { orderKey } from '../connectors/files/inventory.js';

/**
 * status.sourceListing from the read probe's listing: per files entity, its newest files (by the
 * order runs apply them) with name, size and time, and how many were left out (older ones, and
 * names too long for the status). The first LISTED_ENTITIES files entities only.
 */
export function sourceListingStatus(spec: SyncFlowSpec, listing: LocationListing, listedAt: Date): SourceListing {
  const entities: SourceListing['entities'] = [];
  for (const entity of spec.entities) {
    const file = entity.source.file;
    if (!file || entities.length === LISTED_ENTITIES) continue;
    const matches = picomatch(file.pattern, { dot: false });
    const key = orderKey(file);
    const own = listing.entries.filter((e) => belongsTo(e.name, matches)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const newest = own.filter((e) => e.name.length <= LISTED_NAME_LENGTH).slice(-LISTED_FILES_PER_ENTITY);
    entities.push({
      name: entity.name,
      files: newest.map((e) => ({ name: e.name, size: e.size, modifiedAt: e.modifiedAt.toISOString(), ...(listing.changing.has(e.name) ? { changing: true } : {}) })),
      ...(own.length > newest.length ? { more: own.length - newest.length } : {}),
    });
  }
  return { listedAt: listedAt.toISOString(), entities };
}
