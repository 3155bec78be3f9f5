import type { ExportTarget } from '../api/exporttarget.js';
import type { SyncFlow } from '../api/syncflow.js';
import { listFilesSource, type ListedProbe } from '../connectors/files/probe.js';
import type { ProbeResult } from '../export/probe.js';
import type { ExportSecrets } from '../export/secrets.js';

/** The SyncFlows of the target's namespace whose files source reads through it. */
export function filesReadersOf(target: ExportTarget, flows: readonly SyncFlow[]): SyncFlow[] {
  return flows
    .filter((f) => f.metadata.namespace === target.metadata.namespace && f.spec.source.files?.exportTargetRef?.name === target.metadata.name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** What the read probes depend on: the readers' locations and file patterns (a change probes again). */
export const filesReadersHash = (readers: readonly SyncFlow[]) =>
  JSON.stringify(readers.map((f) => [f.metadata.name, f.spec.source.files, f.spec.entities.map((e) => e.source.file?.pattern ?? null)]));

/** The read probes of the flows reading through a target: one result for FilesReadable, and each flow's listing. */
export interface ReadersProbe extends ProbeResult {
  listings: { flow: SyncFlow; listing: NonNullable<ListedProbe['listing']> }[];
}

/**
 * The read probe of every files source reading through the target (list, open the newest file),
 * folded into one result for the FilesReadable condition; undefined when no flow reads through it.
 */
export async function probeFilesReaders(
  target: ExportTarget,
  readers: readonly SyncFlow[],
  secrets: ExportSecrets,
  probe: typeof listFilesSource = listFilesSource,
): Promise<ReadersProbe | undefined> {
  if (readers.length === 0) return undefined;
  const results = [];
  for (const flow of readers) results.push({ flow, ...(await probe(flow.spec, { targets: { [target.metadata.name]: target.spec }, secrets }, { settle: true })) });
  const failed = results.find((r) => !r.result.ready);
  return {
    ready: !failed,
    reason: failed?.result.reason ?? 'Ready',
    message: results.map((r) => `SyncFlow ${r.flow.metadata.name}: ${r.result.message}`).join('; '),
    listings: results.flatMap((r) => (r.listing ? [{ flow: r.flow, listing: r.listing }] : [])),
  };
}
