import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ExportTarget, ExportTargetSpec } from '../api/exporttarget.js';
import type { SyncFlow, SyncFlowSpec } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import { databaseOf, type SystemSide } from '../api/systems.js';
import { credentialsText, gatherCredentials } from '../connectors/http/client-config.js';
import { ENV_SECRETS_DIR, ENV_SOURCE_URL, ENV_STATE_URL, ENV_TARGET_URL, TERMINATION_LOG } from '../controller/job-builder.js';
import { Kube, errorMessage, isStatus } from '../controller/kube.js';
import { generationSentence } from '../controller/flow-generation.js';
import { reimportSentence } from '../controller/reimport-note.js';
import { newRunId } from '../controller/run-id.js';
import type { SyncMode } from '../api/common.js';
import { RunFailedError } from '../engine/run.js';
import { runSync } from '../connectors/run.js';
import { renderTable } from '../engine/report.js';
import type { ExportSecrets } from '../export/secrets.js';
import { admittedFlow, recordRanGeneration } from '../store/admitted-flows.js';
import { openStateStore, type StateStore } from '../store/db.js';
import { recordRunHeartbeat, recordUnstartedRun } from '../store/run-log.js';
import { checkDatabaseUrl } from '../util/connection-url.js';
import { ConfigError, EXIT_OK, FerryError, FlowBusyError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';

const HEARTBEAT_MS = 5000;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set (the controller's Job template passes it from a Secret)`);
  return value;
}

/**
 * A side's database URL, passed from its Secret as an env var, checked before anything connects:
 * a URL no driver reads as meant is refused naming the Secret and key, never with the URL itself.
 */
function databaseUrl(spec: SyncFlowSpec, side: SystemSide, env: string): string | undefined {
  const http = spec[side].http;
  if (http) {
    // An API's credentials are the Secrets the Job builder mounted, read as the connector wants them.
    const mounted = readMountedSecrets(process.env[ENV_SECRETS_DIR] ?? '/var/run/ferry/secrets');
    return credentialsText(
      gatherCredentials(http, `spec.${side}.http`, (ref, where) => {
        const value = mounted[ref.name]?.[ref.key];
        if (value === undefined) throw new ConfigError(`${where}: Secret "${ref.name}" key "${ref.key}" is not mounted in the Job`);
        return value;
      }),
    );
  }
  const database = databaseOf(spec[side], side);
  return database ? checkDatabaseUrl(requireEnv(env), database) : undefined;
}

/** Secrets mounted as `<dir>/<secret>/<key>` files, as the Job builder lays them out. */
export function readMountedSecrets(dir: string): ExportSecrets {
  const secrets: ExportSecrets = {};
  if (!existsSync(dir)) return secrets;
  for (const name of readdirSync(dir)) {
    const secretDir = join(dir, name);
    if (!statSync(secretDir).isDirectory()) continue;
    secrets[name] = {};
    for (const key of readdirSync(secretDir)) {
      const file = join(secretDir, key);
      if (!key.startsWith('..') && statSync(file).isFile()) secrets[name][key] = readFileSync(file, 'utf8');
    }
  }
  return secrets;
}

/** The message Kubernetes shows as the container's termination reason (`kubectl describe pod`). */
function writeTerminationMessage(message: string): void {
  const path = process.env.FERRY_TERMINATION_LOG ?? TERMINATION_LOG;
  try {
    writeFileSync(path, message.slice(0, 4000));
  } catch {
    // Not in a pod (or the path is not writable): stderr carries the message anyway.
  }
}

async function readObjects(kube: Kube, namespace: string, name: string): Promise<{ job: SyncJob; flow: SyncFlow }> {
  let job: SyncJob;
  try {
    job = await kube.get<SyncJob>('SyncJob', namespace, name);
  } catch (error) {
    throw new ConfigError(`cannot read SyncJob ${namespace}/${name}: ${errorMessage(error)}`);
  }
  let flow: SyncFlow;
  try {
    flow = await kube.get<SyncFlow>('SyncFlow', namespace, job.spec.flowRef.name);
  } catch (error) {
    throw new ConfigError(`cannot read SyncFlow ${namespace}/${job.spec.flowRef.name}: ${errorMessage(error)}`);
  }
  return { job, flow };
}

/** The ExportTargets a flow names (its export's targets, a files source's server), read from the cluster. */
async function readExportTargets(kube: Kube, namespace: string, spec: SyncFlowSpec): Promise<Record<string, ExportTargetSpec>> {
  const targets: Record<string, ExportTargetSpec> = {};
  const files = spec.source.files?.exportTargetRef?.name;
  const refs = [
    ...(spec.target.export?.targets ?? []).map((ref) => ({ name: ref.name, field: 'spec.target.export.targets' })),
    ...(files ? [{ name: files, field: 'spec.source.files.exportTargetRef' }] : []),
  ];
  for (const ref of refs) {
    try {
      targets[ref.name] = (await kube.get<ExportTarget>('ExportTarget', namespace, ref.name)).spec;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      throw new ConfigError(`${ref.field}: ExportTarget "${ref.name}" not found`);
    }
  }
  return targets;
}

/** A files source's directory must be a volume the Job mounts; otherwise the pod would list an empty directory. */
function checkFilesSource(spec: SyncFlowSpec): void {
  const files = spec.source.files;
  if (files?.directory && !files.volumeClaim) {
    throw new ConfigError(`spec.source.files.volumeClaim: required in the cluster, so the SyncJob's pod mounts ${files.directory}`);
  }
}

/**
 * The flow spec this run executes: the one its SyncJob was admitted with (kept by the controller in
 * the state database), or the live one when none was kept (a controller older than this pod).
 * Records the generation it runs, which the controller shows on the SyncJob's status; the note says
 * so in the run report when the admitted and the live generation differ.
 */
async function specToRun(state: StateStore, job: SyncJob, flow: SyncFlow, logger: Logger): Promise<{ spec: SyncFlowSpec; notes: string[] }> {
  const uid = job.metadata.uid;
  const admitted = uid ? await admittedFlow(state.pool, uid) : undefined;
  const live = flow.metadata.generation ?? 0;
  if (!admitted) {
    logger.warn({ generation: live }, 'no admitted SyncFlow spec recorded for this SyncJob: running the live one');
    const admittedGeneration = job.status?.flowGeneration?.admitted;
    const note = admittedGeneration === undefined ? undefined : generationSentence({ admitted: admittedGeneration, ran: live }, live);
    return { spec: flow.spec, notes: note ? [note] : [] };
  }
  if (admitted.generation !== live) {
    logger.warn({ admitted: admitted.generation, live }, 'the SyncFlow was edited after this SyncJob was admitted: running the admitted spec');
  }
  await recordRanGeneration(state.pool, uid!, admitted.generation);
  const note = generationSentence({ admitted: admitted.generation, ran: admitted.generation }, live);
  return { spec: admitted.spec, notes: note ? [note] : [] };
}

/**
 * A run that failed before the engine recorded it (another run holds the flow's lock, a mode this
 * engine does not support yet, bad input) still gets a row, so the controller can report why:
 * status LockHeld or Failed. When the engine did record the run, its row is left as it is.
 */
async function saveUnstartedRun(stateUrl: string, runId: string, flowId: string, mode: string, status: 'LockHeld' | 'Failed', message: string): Promise<void> {
  const client = new pg.Client({ connectionString: stateUrl });
  client.on('error', () => {});
  try {
    await client.connect();
    await recordUnstartedRun(client, { runId, flow: flowId, mode, status, error: message });
  } finally {
    await client.end().catch(() => {});
  }
}

/** Keeps `ferry.runs.heartbeat_at` fresh while the run lives; the controller shows it and reads Running from the row. */
function startHeartbeat(stateUrl: string, runId: string, logger: Logger): () => Promise<void> {
  const client = new pg.Client({ connectionString: stateUrl, application_name: 'ferry-heartbeat' } as pg.ClientConfig);
  client.on('error', () => {});
  let stopped = false;
  const connected = client.connect().catch((error) => logger.warn({ err: String(error) }, 'heartbeat connection failed'));
  const beat = () =>
    connected
      .then(() => (stopped ? undefined : recordRunHeartbeat(client, runId)))
      .catch(() => {});
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  void beat();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await connected;
    await client.end().catch(() => {});
  };
}

export interface JobOptions {
  namespace: string;
  name: string;
  kubeconfig?: string;
  logger?: Logger;
}

/** `ferry job`: runs one SyncJob inside its Kubernetes Job pod. Returns the exit code. */
export async function runJob(options: JobOptions): Promise<number> {
  const logger = options.logger ?? createLogger({ pretty: false });
  const kube = Kube.fromDefault(options.kubeconfig);
  const { job, flow: liveFlow } = await readObjects(kube, options.namespace, options.name);
  const stateUrl = requireEnv(ENV_STATE_URL);
  const flowId = `${options.namespace}/${liveFlow.metadata.name}`;
  const runId = newRunId(job);
  const state = await openStateStore(stateUrl); // migrations first, so the heartbeat's table exists
  let flow: SyncFlow;
  let notes: string[];
  try {
    const torun = await specToRun(state, job, liveFlow, logger);
    flow = { ...liveFlow, spec: torun.spec };
    const reimported = reimportSentence(job.spec);
    notes = reimported ? [...torun.notes, reimported] : torun.notes;
  } finally {
    await state.close();
  }
  const targets = await readExportTargets(kube, options.namespace, flow.spec);
  const mountedSecrets = () => readMountedSecrets(process.env[ENV_SECRETS_DIR] ?? '/var/run/ferry/secrets');
  const stopHeartbeat = startHeartbeat(stateUrl, runId, logger);
  const spec = job.spec;
  try {
    checkFilesSource(flow.spec);
    const report = await runSync({
      flowId,
      spec: flow.spec,
      mode: spec.mode,
      dryRun: spec.dryRun,
      requestedBy: spec.requestedBy,
      runId,
      // A files source has no URL: its ExportTarget and Secrets are read and mounted instead.
      sourceUrl: flow.spec.source.files ? '' : (databaseUrl(flow.spec, 'source', ENV_SOURCE_URL) ?? requireEnv(ENV_SOURCE_URL)),
      targetUrl: databaseUrl(flow.spec, 'target', ENV_TARGET_URL) ?? '',
      stateUrl,
      logger,
      notes,
      ...(spec.record ? { record: spec.record } : {}),
      ...(spec.scope ? { scope: spec.scope } : {}),
      ...(spec.scopeMode ? { scopeMode: spec.scopeMode } : {}),
      ...(spec.resolutions ? { resolutions: spec.resolutions } : {}),
      ...(flow.spec.target.export || spec.mode === 'Retransfer'
        ? { export: { targets, secrets: mountedSecrets(), ...(spec.retransfer ? { retransfer: spec.retransfer } : {}) } }
        : {}),
      ...(flow.spec.source.files ? { files: { targets, secrets: mountedSecrets(), ...(spec.reimport ? { reimport: spec.reimport } : {}) } } : {}),
    });
    process.stdout.write(renderTable(report) + '\n');
    writeTerminationMessage(`Succeeded: run ${runId}: read ${report.totals.read}, created ${report.totals.created}, updated ${report.totals.updated}`);
    return EXIT_OK;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await saveUnstartedRun(stateUrl, runId, flowId, spec.mode, error instanceof FlowBusyError ? 'LockHeld' : 'Failed', message).catch(() => {});
    if (error instanceof RunFailedError) process.stdout.write(renderTable(error.report) + '\n');
    const reason = error instanceof FlowBusyError ? 'LockHeld' : 'EngineError';
    writeTerminationMessage(`${reason}: ${message}`);
    throw error instanceof FerryError ? error : new FerryError(message, 1, { cause: error });
  } finally {
    await stopHeartbeat();
  }
}
