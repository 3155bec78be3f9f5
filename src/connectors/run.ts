import type { RunReport } from '../engine/report.js';
import { runSync as runWithConnectors, type RunRequest } from '../engine/run.js';
import type { FileLocationContext } from './files/location.js';
import { unstableListNotes } from './http/list-order.js';
import { connectorFor } from './index.js';

/**
 * Runs one sync of a flow with the connectors its spec names: the entry point of `ferry run`,
 * `ferry job` and the demo. The engine itself only knows the connector interface.
 */
export async function runSync(request: Omit<RunRequest, 'connectors'> & { files?: FileLocationContext & { reimport?: string[]; keyMemoryBytes?: number; keptCopiesBytes?: number } }): Promise<RunReport> {
  const { files, ...rest } = request;
  const filesContext = { targets: {}, secrets: {}, ...files, flowId: request.flowId, stateUrl: request.stateUrl, ...(request.runId ? { runId: request.runId } : {}), ...(request.dryRun ? { dryRun: true } : {}) };
  const [source, target] = await Promise.all([
    connectorFor(request.spec, 'source', request.sourceUrl, filesContext),
    connectorFor(request.spec, 'target', request.targetUrl),
  ]);
  const notes = [...(rest.notes ?? []), ...unstableListNotes(request.spec)];
  return runWithConnectors({ ...rest, ...(notes.length > 0 ? { notes } : {}), connectors: source && target ? { source, target } : undefined });
}
