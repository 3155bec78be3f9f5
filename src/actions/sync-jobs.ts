/**
 * The SyncJobs that people start (sync, Resolve, Retransfer, a new export run), built by pure functions
 * (choices in, object out) and shared by `kubectl ferry` and the console, so both ask for runs the same
 * way. The controller takes it from there: admission, estimate, the batch/v1 Job.
 */
import { API_VERSION } from '../api/common.js';
import { RESOLUTION_ACTIONS, type Resolution, type ResolutionAction, type SyncJob, type SyncJobSpec } from '../api/syncjob.js';
import { ConfigError } from '../util/errors.js';

export const LABEL_FLOW = 'ferry.dev/flow';
export const LABEL_MODE = 'ferry.dev/mode';
export const LABEL_REQUESTED_VIA = 'ferry.dev/requested-via';
export const REQUESTED_VIA = 'kubectl-ferry';
/** Which client asked for a run (the `ferry.dev/requested-via` label). */
export type RequestedVia = 'kubectl-ferry' | 'ferry-console' | 'webhook';

export interface SyncFlags {
  full?: boolean;
  incremental?: boolean;
  scope?: string;
  record?: string;
  dryRun?: boolean;
  requestedBy?: string;
}

export interface RequestContext {
  namespace: string;
  flow: string;
  dryRun?: boolean;
  requestedBy?: string;
  /** Default kubectl-ferry. */
  requestedVia?: RequestedVia;
}

/** `people/42` -> { entity: people, key: 42 }. Keys may contain slashes; the entity never does. */
export function parseRecordRef(ref: string): { entity: string; key: string } {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) throw new ConfigError(`--record must be ENTITY/KEY, e.g. people/42 (got "${ref}")`);
  return { entity: ref.slice(0, slash), key: ref.slice(slash + 1) };
}

/**
 * The mode part of a SyncJob spec from the sync flags. No mode flag means Incremental (the on-demand
 * "since the last sync" run); --scope runs a scope incrementally, or fully with --full.
 */
export function syncModeFromFlags(flags: SyncFlags): Pick<SyncJobSpec, 'mode' | 'scope' | 'scopeMode' | 'record'> {
  if (flags.full && flags.incremental) throw new ConfigError('--full and --incremental are mutually exclusive');
  if (flags.record !== undefined && (flags.scope !== undefined || flags.full || flags.incremental)) {
    throw new ConfigError('--record syncs one record with its closure; it takes no --full, --incremental or --scope');
  }
  if (flags.record !== undefined) return { mode: 'Record', record: parseRecordRef(flags.record) };
  if (flags.scope !== undefined) {
    if (!flags.scope) throw new ConfigError('--scope needs a scope name');
    return { mode: 'Scope', scope: flags.scope, ...(flags.full ? { scopeMode: 'Full' as const } : flags.incremental ? { scopeMode: 'Incremental' as const } : {}) };
  }
  return { mode: flags.full ? 'Full' : 'Incremental' };
}

/** Server-generated names keep manual runs apart from scheduled ones (`<flow>-<schedule>-<unix time>`). */
function generateNameFor(flow: string, mode: string): string {
  return `${flow.slice(0, 40).replace(/[-.]+$/, '')}-${mode.toLowerCase()}-`;
}

export function buildSyncJob(context: RequestContext, modeSpec: Omit<SyncJobSpec, 'flowRef'>): SyncJob {
  const spec: SyncJobSpec = {
    flowRef: { name: context.flow },
    ...modeSpec,
    ...(context.requestedBy ? { requestedBy: context.requestedBy } : {}),
    ...(context.dryRun ? { dryRun: true } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'SyncJob',
    // No name: the API server fills it in from generateName.
    metadata: {
      generateName: generateNameFor(context.flow, spec.mode),
      namespace: context.namespace,
      labels: { [LABEL_FLOW]: context.flow, [LABEL_MODE]: spec.mode, [LABEL_REQUESTED_VIA]: context.requestedVia ?? REQUESTED_VIA },
    } as Partial<SyncJob['metadata']> as SyncJob['metadata'],
    spec,
  };
}

export function buildSyncRequest(context: Omit<RequestContext, 'dryRun' | 'requestedBy'>, flags: SyncFlags): SyncJob {
  return buildSyncJob({ ...context, dryRun: flags.dryRun, requestedBy: flags.requestedBy }, syncModeFromFlags(flags));
}

/** A Retransfer of the export file that an earlier SyncJob produced, to all or some of its targets. */
export function buildRetransfer(original: SyncJob, targets: string[], context: Pick<RequestContext, 'requestedBy' | 'dryRun' | 'requestedVia'> = {}): SyncJob {
  const runId = original.status?.reportRef?.runId ?? original.status?.runId;
  if (!runId) {
    throw new ConfigError(`SyncJob ${original.metadata.name} has no run id yet (phase ${original.status?.phase ?? 'unknown'}); only a run that produced a file can be re-sent`);
  }
  return buildSyncJob(
    { namespace: original.metadata.namespace ?? 'default', flow: original.spec.flowRef.name, ...context },
    { mode: 'Retransfer', retransfer: { runId, ...(targets.length ? { targets: [...new Set(targets)] } : {}) } },
  );
}

export interface ResolutionFlags {
  entity?: string;
  sourceKey?: string;
  targetKey?: string;
  action?: string;
  fields?: string;
}

const ACTION_SPELLINGS = new Map<string, ResolutionAction>(
  RESOLUTION_ACTIONS.flatMap((action) => {
    const kebab = action.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    return [[action.toLowerCase(), action], [kebab, action]] as [string, ResolutionAction][];
  }),
);

/** One resolution from flags; accepts KeepSource, keepsource or keep-source. */
export function resolutionFromFlags(flags: ResolutionFlags): Resolution {
  if (!flags.entity) throw new ConfigError('--entity is required');
  if (!flags.sourceKey && !flags.targetKey) throw new ConfigError('--source-key or --target-key is required');
  const action = ACTION_SPELLINGS.get((flags.action ?? '').toLowerCase());
  if (!action) throw new ConfigError(`--action must be one of ${RESOLUTION_ACTIONS.join(', ')} (got "${flags.action ?? ''}")`);
  const fields = flags.fields?.split(',').map((f) => f.trim()).filter(Boolean);
  if (fields?.length && action !== 'KeepSource' && action !== 'KeepTarget') throw new ConfigError('--fields only applies to KeepSource and KeepTarget');
  return {
    entity: flags.entity,
    ...(flags.sourceKey ? { sourceKey: flags.sourceKey } : {}),
    ...(flags.targetKey ? { targetKey: flags.targetKey } : {}),
    action,
    ...(fields?.length ? { fields } : {}),
  };
}

export function buildResolve(context: RequestContext, resolutions: Resolution[]): SyncJob {
  if (resolutions.length === 0) throw new ConfigError('nothing to resolve: give --entity/--action flags or -f FILE with resolutions');
  return buildSyncJob(context, { mode: 'Resolve', resolutions });
}

/** "90s", "15m", "6h" or plain seconds, in milliseconds. */
export function parseTimeout(value: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim());
  if (!match) throw new ConfigError(`--timeout must look like 90s, 15m or 6h (got "${value}")`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'] * 1000;
}

/**
 * `--keep email=source,iban=target`: the per-field choice of seed 003's synchronisation window, as
 * Resolve resolutions (one KeepSource and one KeepTarget, each limited to its fields, applied in order).
 */
export function perFieldResolutions(flags: { entity?: string; sourceKey?: string; targetKey?: string }, keep: string): Resolution[] {
  if (!flags.entity) throw new ConfigError('--entity is required');
  if (!flags.sourceKey && !flags.targetKey) throw new ConfigError('--source-key or --target-key is required');
  const bySide = { source: [] as string[], target: [] as string[] };
  for (const item of keep.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [field, side] = item.split('=').map((s) => s.trim());
    const chosen = side?.toLowerCase();
    if (!field || (chosen !== 'source' && chosen !== 'target')) throw new ConfigError(`--keep takes FIELD=source|target[,...] (got "${item}")`);
    if (bySide.source.includes(field) || bySide.target.includes(field)) throw new ConfigError(`--keep names ${field} twice`);
    bySide[chosen].push(field);
  }
  const pair = { entity: flags.entity, ...(flags.sourceKey ? { sourceKey: flags.sourceKey } : {}), ...(flags.targetKey ? { targetKey: flags.targetKey } : {}) };
  return [
    ...(bySide.source.length ? [{ ...pair, action: 'KeepSource' as const, fields: bySide.source }] : []),
    ...(bySide.target.length ? [{ ...pair, action: 'KeepTarget' as const, fields: bySide.target }] : []),
  ];
}
