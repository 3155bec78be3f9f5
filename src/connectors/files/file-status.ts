import picomatch from 'picomatch';
import type { RemoteEntry } from '../../export/transports/types.js';
import type { SourceFileRecord } from '../../store/source-files.js';
import { TEMPORARY } from './inventory.js';

/**
 * What `ferry files` and `kubectl ferry files` show for each file of a files source: the files the
 * state database recorded, and (when the location was listed) those a run has not read yet.
 */
export type FileState = 'imported' | 'unchanged' | 'pending' | 'failed' | 'reimport-requested';

/** A file as the state database recorded it (ferry.source_files, or the data API's SourceFile). */
export type RecordedFile = Omit<SourceFileRecord, 'firstSeenAt'>;

export interface FileStatusRow {
  entity: string;
  name: string;
  status: FileState;
  /** Why, in a few words: the failure's reason, what a pending file waits for, where an imported one is. */
  detail: string;
  size: number;
  modifiedAt: string;
  sha256?: string;
  importedAt?: string;
  rows?: number;
  /** Where the file is now, below the location (processed/ or failed/ after a move). */
  path?: string;
}

/** The location as listed twice (inventory.ts `lookTwice`); undefined when it was not listed (the cluster view). */
export interface LocationListing {
  entries: RemoteEntry[];
  changing: Set<string>;
}

const same = (r: RecordedFile, e: RemoteEntry) => r.name === e.name && r.size === e.size && r.modifiedAt.getTime() === e.modifiedAt.getTime();

function recordedRow(record: RecordedFile, listing: LocationListing | undefined, reimport: boolean): FileStatusRow {
  const base = {
    entity: record.entity,
    name: record.name,
    size: record.size,
    modifiedAt: record.modifiedAt.toISOString(),
    sha256: record.sha256,
    ...(record.importedAt ? { importedAt: record.importedAt.toISOString() } : {}),
    ...(record.rows !== null ? { rows: record.rows } : {}),
    path: record.path,
  };
  if (record.status === 'failed') return { ...base, status: 'failed', detail: record.reason ?? 'no reason recorded' };
  if (record.status === 'pending') return { ...base, status: 'pending', detail: 'taken by a run that has not finished (or was stopped); the next run imports it' };
  if (reimport) return { ...base, status: 'reimport-requested', detail: 'imported; a re-import was asked for, the next run reads it again' };
  const moved = record.path !== record.name ? `moved to ${record.path}` : undefined;
  const superseded = record.rows === null ? 'superseded by a newer snapshot, not read' : undefined;
  if (!moved && listing?.entries.some((e) => same(record, e))) {
    return { ...base, status: 'unchanged', detail: ['still at the location, unchanged: runs skip it', superseded].filter(Boolean).join('; ') };
  }
  return { ...base, status: 'imported', detail: [moved, superseded].filter(Boolean).join('; ') };
}

/** Whether a listed name is the entity's: it matches the pattern, or it is a partner's temporary name of a file that will. */
export const belongsTo = (name: string, matches: (name: string) => boolean) => (TEMPORARY.test(name) ? matches(name.replace(TEMPORARY, '')) : matches(name));

/** A listed file no record covers: why it is pending, or undefined when it is not the entity's at all. */
function pendingDetail(entry: RemoteEntry, matches: (name: string) => boolean, listing: LocationListing, records: RecordedFile[]): string | undefined {
  if (!belongsTo(entry.name, matches)) return undefined;
  if (TEMPORARY.test(entry.name)) return 'still being written (temporary name)';
  if (listing.changing.has(entry.name)) return 'still being written (size or time changed between two looks)';
  if (records.some((r) => r.name === entry.name)) return 'changed since it was recorded: the next run reads it (and skips it if its content is the same)';
  return 'new: the next run imports it';
}

/**
 * Per entity (in the flow's order): its recorded files in the order they were applied, then the
 * files at the location not recorded yet, by name. `reimport`: names of files a re-import was
 * asked for and no run has done yet.
 */
export function fileStatuses(entities: { name: string; pattern: string }[], records: RecordedFile[], listing: LocationListing | undefined, reimport: string[] = []): FileStatusRow[] {
  const rows: FileStatusRow[] = [];
  for (const entity of entities) {
    const recorded = records.filter((r) => r.entity === entity.name).sort((a, b) => a.id - b.id);
    // A re-import applies to the newest record of the name.
    const newest = new Map(recorded.map((r) => [r.name, r.id]));
    for (const record of recorded) rows.push(recordedRow(record, listing, record.status === 'imported' && reimport.includes(record.name) && newest.get(record.name) === record.id));
    if (!listing) continue;
    const matches = picomatch(entity.pattern, { dot: false });
    // Recorded with the same name, size and time (as a run judges a file seen), wherever it was moved since: a listing taken before a run moved it stays covered.
    const covered = (e: RemoteEntry) => recorded.some((r) => same(r, e));
    const waiting = listing.entries.filter((e) => !covered(e)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of waiting) {
      const detail = pendingDetail(entry, matches, listing, recorded);
      if (detail) rows.push({ entity: entity.name, name: entry.name, status: 'pending', detail, size: entry.size, modifiedAt: entry.modifiedAt.toISOString() });
    }
  }
  return rows;
}
