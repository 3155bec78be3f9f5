import type { Logger } from 'pino';
import {
  formatValidationErrors,
  loadManifests,
  validateManifests,
  type LoadedManifests,
  type SyncFlow,
  type ValidationError,
} from '../api/index.js';
import { DATABASE_KINDS, databaseOf, type SystemSide } from '../api/systems.js';
import type { SyncMode } from '../api/common.js';
import { runSync } from '../connectors/run.js';
import type { ScopeMode } from '../engine/run-selection.js';
import type { RecordSide, Resolution } from '../api/syncjob.js';
import type { ExportContext } from '../export/run-export.js';
import { secretsFromManifests } from '../export/secrets.js';
import type { RunReport } from '../engine/report.js';
import { checkDatabaseUrl } from '../util/connection-url.js';
import { ConfigError } from '../util/errors.js';
import { defaultDataDir, ensureDatabase, openLocalServer } from './embedded-server.js';
import { embeddedDatabaseName, secretValue } from './secrets.js';
import { credentialsText, gatherCredentials } from '../connectors/http/client-config.js';

export interface LocalRunOptions {
  files: string[];
  flow?: string;
  mode?: SyncMode;
  dryRun?: boolean;
  requestedBy?: string;
  stateDb?: string;
  dataDir?: string;
  parallelEntities?: number;
  /** Record mode: `entity/key`, e.g. `people/42` (composite keys: parts joined by commas). */
  record?: string;
  /** Record mode on a TwoWay flow: the side the key belongs to (default Source). */
  recordSide?: RecordSide;
  /** Scope mode: the scope name, and Full or Incremental within it. */
  scope?: string;
  scopeMode?: ScopeMode;
  /** Files of a files source to import again although they were imported (by name). */
  reimport?: string[];
  logger: Logger;
}

interface PlannedRun {
  flow: SyncFlow;
  mode: SyncMode;
  dryRun: boolean;
  requestedBy?: string;
  retransfer?: { runId: string; targets?: string[] };
  reimport?: string[];
  record?: { entity: string; key: string; side?: RecordSide };
  scope?: string;
  scopeMode?: ScopeMode;
  resolutions?: Resolution[];
}

/** `people/42` -> { entity: 'people', key: '42' }. */
export function parseRecordOption(value: string): { entity: string; key: string } {
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) throw new ConfigError(`--record takes ENTITY/KEY, e.g. people/42, got "${value}"`);
  return { entity: value.slice(0, slash), key: value.slice(slash + 1) };
}

/** Mode-specific options from the command line: they imply their mode and are refused with any other. */
function modeOptions(options: LocalRunOptions): Pick<PlannedRun, 'mode' | 'record' | 'scope' | 'scopeMode'> {
  const mode: SyncMode = options.mode ?? (options.record ? 'Record' : options.scope ? 'Scope' : 'Incremental');
  if (options.record && mode !== 'Record') throw new ConfigError(`--record is only used with --mode Record, not ${mode}`);
  if (options.recordSide && !options.record) throw new ConfigError('--record-side is only used with --record ENTITY/KEY');
  if ((options.scope || options.scopeMode) && mode !== 'Scope') throw new ConfigError(`--scope and --scope-mode are only used with --mode Scope, not ${mode}`);
  if (mode === 'Record' && !options.record) throw new ConfigError('--mode Record needs --record ENTITY/KEY, e.g. --record people/42');
  if (mode === 'Scope' && !options.scope) throw new ConfigError('--mode Scope needs --scope NAME');
  return {
    mode,
    ...(options.record ? { record: { ...parseRecordOption(options.record), ...(options.recordSide ? { side: options.recordSide } : {}) } } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.scopeMode ? { scopeMode: options.scopeMode } : {}),
  };
}

/** The manifests' ExportTargets and Secrets, for an export target or a files source. */
export function exportContext(loaded: LoadedManifests, retransfer?: PlannedRun['retransfer']): ExportContext {
  return {
    targets: Object.fromEntries(loaded.targets.map((t) => [t.metadata.name, t.spec])),
    secrets: secretsFromManifests(loaded.secrets),
    ...(retransfer ? { retransfer } : {}),
  };
}

const STATE_DATABASE = 'ferry_state';

/** Loads, schema-checks and semantically validates manifests; any error is a ConfigError listing all of them. */
export function loadValidManifests(files: string[]): LoadedManifests {
  const loaded = loadManifests(files);
  // Schema check (as the API server would) plus the semantic rules; each error carries its file.
  const errors: ValidationError[] = validateManifests(loaded);
  if (errors.length > 0) throw new ConfigError(formatValidationErrors(errors, files.join(', ')));
  return loaded;
}

function planRuns(loaded: LoadedManifests, options: LocalRunOptions): PlannedRun[] {
  const findFlow = (name: string) => {
    const flow = loaded.flows.find((f) => f.metadata.name === name);
    if (!flow) throw new ConfigError(`SyncFlow "${name}" not found in ${options.files.join(', ')}`);
    return flow;
  };
  if (options.flow) {
    return [{ flow: findFlow(options.flow), ...modeOptions(options), dryRun: Boolean(options.dryRun), requestedBy: options.requestedBy }];
  }
  if (loaded.jobs.length > 0 && !options.mode) {
    return loaded.jobs.map((job) => ({
      flow: findFlow(job.spec.flowRef.name),
      mode: job.spec.mode,
      dryRun: Boolean(options.dryRun || job.spec.dryRun),
      requestedBy: options.requestedBy ?? job.spec.requestedBy,
      ...(job.spec.retransfer ? { retransfer: job.spec.retransfer } : {}),
      ...(job.spec.reimport ? { reimport: job.spec.reimport } : {}),
      ...(job.spec.record ? { record: job.spec.record } : {}),
      ...(job.spec.scope ? { scope: job.spec.scope } : {}),
      ...(job.spec.scopeMode ? { scopeMode: job.spec.scopeMode } : {}),
      ...(job.spec.resolutions ? { resolutions: job.spec.resolutions } : {}),
    }));
  }
  if (loaded.flows.length === 1) {
    return [{ flow: loaded.flows[0], ...modeOptions(options), dryRun: Boolean(options.dryRun), requestedBy: options.requestedBy }];
  }
  if (loaded.flows.length === 0) throw new ConfigError(`no SyncFlow found in ${options.files.join(', ')}`);
  throw new ConfigError(`several SyncFlows found (${loaded.flows.map((f) => f.metadata.name).join(', ')}): choose one with --flow`);
}

/**
 * The URL in the Secret manifest of one side's database (for an http side: the credentials its
 * Secrets hold, as the connector reads them); undefined when that side is an export.
 */
export function databaseUrlOf(loaded: LoadedManifests, spec: SyncFlow['spec'], side: SystemSide): string | undefined {
  const http = spec[side].http;
  if (http) return credentialsText(gatherCredentials(http, `spec.${side}.http`, (ref, where) => secretValue(loaded.secrets, ref, where)));
  const database = databaseOf(spec[side], side);
  if (!database) return undefined;
  const where = `${database.path}.secretRef`;
  const url = secretValue(loaded.secrets, database.secretRef, where);
  return checkDatabaseUrl(url, database);
}

/** As databaseUrlOf, for a side that must be a database. */
export function requireDatabaseUrl(loaded: LoadedManifests, spec: SyncFlow['spec'], side: SystemSide): string {
  const url = databaseUrlOf(loaded, spec, side);
  if (url === undefined) throw new ConfigError(`spec.${side}: needs a database (${DATABASE_KINDS.join(' or ')})`);
  return url;
}

/**
 * `ferry run`: the same engine as the Kubernetes Job, fed from local manifests. Connection URLs of
 * the form `embedded://<db>` and the default state DB live on a persistent embedded PostgreSQL.
 */
export async function runLocally(options: LocalRunOptions): Promise<RunReport[]> {
  const loaded = loadValidManifests(options.files);
  const runs = planRuns(loaded, options);
  for (const run of runs) {
    if (!options.reimport?.length && !run.reimport?.length) continue;
    if (!run.flow.spec.source.files) throw new ConfigError(`--reimport: SyncFlow ${run.flow.metadata.name} has no files source`);
  }
  let server: Awaited<ReturnType<typeof openLocalServer>> | undefined;
  const resolveUrl = async (url: string): Promise<string> => {
    const database = embeddedDatabaseName(url);
    if (!database) return url;
    server ??= await openLocalServer(options.dataDir ?? defaultDataDir());
    return ensureDatabase(server.url, database);
  };
  // Every connection string is checked before anything connects.
  const secretUrls = runs.map((run) => ({ source: run.flow.spec.source.files ? '' : requireDatabaseUrl(loaded, run.flow.spec, 'source'), target: databaseUrlOf(loaded, run.flow.spec, 'target') }));
  try {
    const stateUrl = options.stateDb ?? (await resolveUrl(`embedded://${STATE_DATABASE}`));
    const reports: RunReport[] = [];
    for (const [i, run] of runs.entries()) {
      const spec = run.flow.spec;
      // A files source has no URL: its ExportTarget and Secrets come from the manifests.
      const sourceUrl = spec.source.files ? '' : await resolveUrl(secretUrls[i].source);
      // An export flow has no target database; its ExportTargets and their Secrets come from the manifests.
      const targetSecret = secretUrls[i].target;
      const targetUrl = targetSecret === undefined ? '' : await resolveUrl(targetSecret);
      reports.push(
        await runSync({
          flowId: `${run.flow.metadata.namespace ?? 'default'}/${run.flow.metadata.name}`,
          spec,
          mode: run.mode,
          dryRun: run.dryRun,
          requestedBy: run.requestedBy,
          sourceUrl,
          targetUrl,
          stateUrl,
          parallelEntities: options.parallelEntities,
          logger: options.logger,
          record: run.record,
          scope: run.scope,
          scopeMode: run.scopeMode,
          ...(run.resolutions ? { resolutions: run.resolutions } : {}),
          ...(spec.target.export || run.mode === 'Retransfer' ? { export: exportContext(loaded, run.retransfer) } : {}),
          ...(spec.source.files ? { files: { ...exportContext(loaded, undefined), reimport: [...(options.reimport ?? []), ...(run.reimport ?? [])] } } : {}),
        }),
      );
    }
    return reports;
  } finally {
    if (server?.startedHere) await server.stop();
  }
}
