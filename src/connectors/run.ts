import type { RunReport } from '../engine/report.js';
import { runSync as runWithConnectors, type RunRequest } from '../engine/run.js';
import { connectorFor } from './index.js';

/**
 * Runs one sync of a flow with the connectors its spec names: the entry point of `ferry run`,
 * `ferry job` and the demo. The engine itself only knows the connector interface.
 */
export function runSync(request: Omit<RunRequest, 'connectors'>): Promise<RunReport> {
  const source = connectorFor(request.spec, 'source', request.sourceUrl);
  const target = connectorFor(request.spec, 'target', request.targetUrl);
  return runWithConnectors({ ...request, connectors: source && target ? { source, target } : undefined });
}
