import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { withFlowDefaults, type DefaultedSyncFlowSpec } from '../../api/defaults.js';
import type { SyncMode } from '../../api/common.js';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import type { RecordSide, Resolution } from '../../api/syncjob.js';
import type { ExportContext } from '../../export/run-export.js';
import type { EntityCounters } from '../../store/run-state.js';
import type { Connector } from '../connector.js';
import type { ScopeMode } from '../run-selection.js';

/** One run as `ferry run`, `ferry job` and the tests ask for it. */
export interface RunRequest {
  /** `namespace/name`; the identity pairs, watermarks and the run lock are keyed by. */
  flowId: string;
  spec: SyncFlowSpec;
  mode: SyncMode;
  dryRun?: boolean;
  requestedBy?: string;
  runId?: string;
  sourceUrl: string;
  targetUrl: string;
  stateUrl: string;
  /** The systems a sync reads and writes (export flows read `sourceUrl` instead). */
  connectors?: { source: Connector; target: Connector };
  logger: Logger;
  onProgress?: (entity: string, counters: EntityCounters) => void;
  /** Entities synced side by side when their dependencies allow (default 2; a dry run uses 1). */
  parallelEntities?: number;
  /** ExportTargets, their Secrets and a re-transfer request, for flows whose target is an export. */
  export?: ExportContext;
  /** Record mode: the record, by entity and key (composite keys: parts joined by commas); the key is the target's with side Target (TwoWay flows). */
  record?: { entity: string; key: string; side?: RecordSide };
  /** Scope mode: the flow's scope to run, Full or Incremental within it (default Incremental). */
  scope?: string;
  scopeMode?: ScopeMode;
  /** Resolve mode: decisions on pairs (keep a side's values, (de)activate, link, unlink). */
  resolutions?: Resolution[];
  /** Notes about the run as a whole that its host knows of (e.g. which SyncFlow generation ran), for the report. */
  notes?: string[];
}

const DEFAULT_PARALLEL_ENTITIES = 2;

/**
 * A run request with every default filled in, once, where the run enters (runSync): the flow's
 * documented defaults (withFlowDefaults), and the run's own. Everything after the entrance reads
 * this type, so no later function applies a default of its own.
 */
export interface DefaultedRunRequest extends Omit<RunRequest, 'spec' | 'dryRun' | 'runId' | 'parallelEntities' | 'scopeMode'> {
  spec: DefaultedSyncFlowSpec;
  dryRun: boolean;
  runId: string;
  /** Lanes the run syncs entities on: one for a dry run (one transaction per database) and a Record run. */
  parallelEntities: number;
  scopeMode: ScopeMode;
}

export function withRunDefaults(request: RunRequest): DefaultedRunRequest {
  const dryRun = Boolean(request.dryRun);
  return {
    ...request,
    spec: withFlowDefaults(request.spec),
    dryRun,
    runId: request.runId ?? randomUUID(),
    parallelEntities: dryRun || request.mode === 'Record' ? 1 : Math.max(1, request.parallelEntities ?? DEFAULT_PARALLEL_ENTITIES),
    scopeMode: request.scopeMode ?? 'Incremental',
  };
}
