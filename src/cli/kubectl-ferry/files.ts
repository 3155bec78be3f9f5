import { LISTED_FILES_PER_ENTITY, type SourceListing, type SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { fileStatuses, type FileStatusRow, type LocationListing, type RecordedFile } from '../../connectors/files/file-status.js';
import type { SourceFile } from '../../data-api/objects.js';
import type { RemoteEntry } from '../../export/transports/types.js';
import { ConfigError } from '../../util/errors.js';
import { formatDuration, isTerminal } from './format.js';

const UNLISTED = 'files no run has read yet are not listed; `ferry files -f DIR` lists them, and the next sync imports them';

/**
 * What the cluster view rests on, printed with every listing: the read probe's listing and its age,
 * or why there is none (recorded files only).
 */
export function clusterFilesNote(flow: SyncFlow, now: Date, entity?: string): string {
  const listing = flow.status?.sourceListing;
  const target = flow.spec.source.files?.exportTargetRef?.name;
  if (!listing) {
    return target
      ? `recorded files only: the controller's read probe has not listed the location of ExportTarget ${target} yet (see its FilesReadable condition); ${UNLISTED}`
      : `recorded files only: the source is a directory on a volume only a SyncJob's pod mounts, so the controller cannot list it; ${UNLISTED}`;
  }
  const age = formatDuration((now.getTime() - Date.parse(listing.listedAt)) / 1000);
  const more = listing.entities.filter((e) => !entity || e.name === entity).reduce((n, e) => n + (e.more ?? 0), 0);
  const left = more ? `; ${more} older matching file${more === 1 ? '' : 's'} not in the listing` : '';
  const listed = new Set(listing.entities.map((e) => e.name));
  const unlisted = flow.spec.entities.filter((e) => e.source.file && (!entity || e.name === entity) && !listed.has(e.name)).map((e) => e.name);
  const beyond = unlisted.length ? `; entities not in the listing (recorded files only): ${unlisted.join(', ')}` : '';
  return `location listed by the controller's read probe at ${listing.listedAt} (${age} ago; the newest ${LISTED_FILES_PER_ENTITY} files per entity${left}${beyond}); recorded files from the state database`;
}

/** status.sourceListing as the listing `fileStatuses` joins with the records (a file two entities match is listed once). */
export function listingOfStatus(status: SourceListing): LocationListing {
  const entries = new Map<string, RemoteEntry>();
  const changing = new Set<string>();
  for (const file of status.entities.flatMap((e) => e.files)) {
    entries.set(file.name, { name: file.name, size: file.size, modifiedAt: new Date(file.modifiedAt) });
    if (file.changing) changing.add(file.name);
  }
  return { entries: [...entries.values()], changing };
}

function recorded(file: SourceFile): RecordedFile {
  return {
    id: Number(file.metadata.name),
    entity: file.entity,
    name: file.fileName,
    sha256: file.sha256,
    size: file.size,
    modifiedAt: new Date(file.modifiedAt),
    path: file.path,
    status: file.status as RecordedFile['status'],
    reason: file.reason ?? null,
    importedAt: file.importedAt ? new Date(file.importedAt) : null,
    rows: file.rows ?? null,
  };
}

/**
 * A flow's files as the cluster knows them: the data API's SourceFiles, the location as the
 * controller's read probe last listed it (status.sourceListing: pending files), and re-imports asked
 * for by SyncJobs that have not ended.
 */
export function clusterFileStatuses(flow: SyncFlow, files: SourceFile[], jobs: SyncJob[], entity?: string): FileStatusRow[] {
  if (!flow.spec.source.files) throw new ConfigError(`SyncFlow ${flow.metadata.name} has no files source (spec.source.files)`);
  const entities = flow.spec.entities.flatMap((e) => (e.source.file && (!entity || e.name === entity) ? [{ name: e.name, pattern: e.source.file.pattern }] : []));
  if (entity && entities.length === 0) throw new ConfigError(`SyncFlow ${flow.metadata.name} has no files entity "${entity}"`);
  const reimport = jobs.filter((j) => j.spec.flowRef.name === flow.metadata.name && !isTerminal(j)).flatMap((j) => j.spec.reimport ?? []);
  const listing = flow.status?.sourceListing;
  return fileStatuses(entities, files.map(recorded), listing ? listingOfStatus(listing) : undefined, reimport);
}
