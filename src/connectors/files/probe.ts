import picomatch from 'picomatch';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import type { ProbeResult } from '../../export/probe.js';
import { TransferError } from '../../export/transports/types.js';
import { FerryError } from '../../util/errors.js';
import type { LocationListing } from './file-status.js';
import { lookTwice, orderKey, TEMPORARY } from './inventory.js';
import { openLocation, type FileLocation, type FileLocationContext } from './location.js';

/** A local file system error as the probe's reason; a remote one is already classified. */
function reasonOf(error: unknown): string {
  if (error instanceof TransferError) return error.reason === 'TransferFailed' ? 'Unreachable' : error.reason;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'PermissionDenied';
  if (code === 'ENOENT') return 'NotFound';
  return error instanceof FerryError ? 'InvalidConfig' : 'Unreachable';
}

class ProbeFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();

/** The read probe's result and, when it could list the directory, that listing (the controller records it as status.sourceListing). */
export interface ListedProbe {
  result: ProbeResult;
  listing?: LocationListing & { listedAt: Date };
}

/**
 * The read probe of a files source: connects as a run would (the ExportTarget's pinned host key,
 * CA bundle and credentials), lists the directory and opens and closes the newest file each entity's
 * pattern matches. Never throws; each failure is one line (host key, login, directory missing,
 * listing or reading refused). Nothing is downloaded, decrypted or recorded.
 */
export async function probeFilesSource(spec: SyncFlowSpec, context: FileLocationContext): Promise<ProbeResult> {
  return (await listFilesSource(spec, context, { settle: false })).result;
}

/**
 * The read probe (probeFilesSource) with the listing it took. `settle`: list as a run does, twice
 * settleSeconds apart, so files still being written are told apart (the controller's listing for
 * `kubectl ferry files`; `ferry probe` lists once and answers at once).
 */
export async function listFilesSource(spec: SyncFlowSpec, context: FileLocationContext, options: { settle: boolean }): Promise<ListedProbe> {
  const endpoint = spec.source.files;
  if (!endpoint) return { result: { ready: false, reason: 'InvalidConfig', message: 'the flow has no files source' } };
  const directory = [endpoint.directory ?? '', endpoint.subdirectory ?? ''].filter(Boolean).join('/') || 'the ExportTarget directory';
  let location: FileLocation;
  try {
    location = await openLocation(endpoint, context);
  } catch (error) {
    return { result: { ready: false, reason: reasonOf(error), message: messageOf(error) } };
  }
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new ProbeFailure(reasonOf(error), `${location.what}: cannot ${what}: ${messageOf(error)}`);
    }
  };
  try {
    if (!(await step(`open directory ${directory}`, () => location.directoryExists('')))) {
      return { result: { ready: false, reason: 'NotFound', message: `${location.what}: directory ${directory} does not exist` } };
    }
    const listedAt = new Date();
    const look = () => (options.settle ? lookTwice(location, endpoint) : location.list('').then((entries) => ({ entries, changing: new Set<string>() })));
    const listing = { ...(await step(`list directory ${directory}`, look)), listedAt };
    const entries = listing.entries;
    const read: string[] = [];
    for (const entity of spec.entities) {
      const file = entity.source.file;
      if (!file) continue;
      const matches = picomatch(file.pattern, { dot: false });
      const key = orderKey(file);
      const newest = entries.filter((e) => matches(e.name) && !TEMPORARY.test(e.name)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).pop();
      if (!newest) {
        read.push(`${entity.name}: no file matches ${file.pattern}`);
        continue;
      }
      await step(`read ${newest.name} in ${directory}`, () => location.checkReadable(newest.name));
      read.push(`${entity.name}: read ${newest.name}`);
    }
    return { result: { ready: true, reason: 'Ready', message: `${location.what}: listed ${directory} (${entries.length} files); ${read.join('; ')}` }, listing };
  } catch (error) {
    if (error instanceof ProbeFailure) return { result: { ready: false, reason: error.reason, message: error.message } };
    throw error;
  } finally {
    await location.close().catch(() => {});
  }
}
