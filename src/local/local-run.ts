import type { Logger } from 'pino';
import {
  formatValidationErrors,
  loadManifests,
  validateManifests,
  type LoadedManifests,
  type SyncFlow,
  type ValidationError,
} from '../api/index.js';
import { runSync, type EngineMode } from '../engine/run.js';
import type { RunReport } from '../engine/report.js';
import { ConfigError } from '../util/errors.js';
import { defaultDataDir, ensureDatabase, openLocalServer } from './embedded-server.js';
import { embeddedDatabaseName, secretValue } from './secrets.js';

export interface LocalRunOptions {
  files: string[];
  flow?: string;
  mode?: EngineMode;
  dryRun?: boolean;
  requestedBy?: string;
  stateDb?: string;
  dataDir?: string;
  parallelEntities?: number;
  logger: Logger;
}

interface PlannedRun {
  flow: SyncFlow;
  mode: EngineMode;
  dryRun: boolean;
  requestedBy?: string;
}

const STATE_DATABASE = 'ferry_state';

/** Loads, schema-checks and semantically validates manifests; any error is a ConfigError listing all of them. */
export function loadValidManifests(files: string[]): LoadedManifests {
  const loaded = loadManifests(files);
  // Schema check (as the API server would) plus the semantic rules; each error carries its file.
  const errors: ValidationError[] = [...loaded.errors, ...validateManifests(loaded)];
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
    return [{ flow: findFlow(options.flow), mode: options.mode ?? 'Incremental', dryRun: Boolean(options.dryRun), requestedBy: options.requestedBy }];
  }
  if (loaded.jobs.length > 0 && !options.mode) {
    return loaded.jobs.map((job) => ({
      flow: findFlow(job.spec.flowRef.name),
      mode: job.spec.mode as EngineMode,
      dryRun: Boolean(options.dryRun || job.spec.dryRun),
      requestedBy: options.requestedBy ?? job.spec.requestedBy,
    }));
  }
  if (loaded.flows.length === 1) {
    return [{ flow: loaded.flows[0], mode: options.mode ?? 'Incremental', dryRun: Boolean(options.dryRun), requestedBy: options.requestedBy }];
  }
  if (loaded.flows.length === 0) throw new ConfigError(`no SyncFlow found in ${options.files.join(', ')}`);
  throw new ConfigError(`several SyncFlows found (${loaded.flows.map((f) => f.metadata.name).join(', ')}): choose one with --flow`);
}

/**
 * `ferry run`: the same engine as the Kubernetes Job, fed from local manifests. Connection URLs of
 * the form `embedded://<db>` and the default state DB live on a persistent embedded PostgreSQL.
 */
export async function runLocally(options: LocalRunOptions): Promise<RunReport[]> {
  const loaded = loadValidManifests(options.files);
  const runs = planRuns(loaded, options);
  let server: Awaited<ReturnType<typeof openLocalServer>> | undefined;
  const resolveUrl = async (url: string): Promise<string> => {
    const database = embeddedDatabaseName(url);
    if (!database) return url;
    server ??= await openLocalServer(options.dataDir ?? defaultDataDir());
    return ensureDatabase(server.url, database);
  };
  try {
    const stateUrl = options.stateDb ?? (await resolveUrl(`embedded://${STATE_DATABASE}`));
    const reports: RunReport[] = [];
    for (const run of runs) {
      const spec = run.flow.spec;
      const sourceRef = spec.source.postgres!.secretRef;
      const targetRef = spec.target.postgres?.secretRef;
      if (!targetRef) throw new ConfigError(`SyncFlow ${run.flow.metadata.name}: spec.target.export is not supported by this version yet`);
      const sourceUrl = await resolveUrl(secretValue(loaded.secrets, sourceRef, 'spec.source.postgres.secretRef'));
      const targetUrl = await resolveUrl(secretValue(loaded.secrets, targetRef, 'spec.target.postgres.secretRef'));
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
        }),
      );
    }
    return reports;
  } finally {
    if (server?.startedHere) await server.stop();
  }
}
