import type { V1EnvVar, V1Job, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { API_VERSION } from '../api/common.js';
import type { ExportTarget } from '../api/exporttarget.js';
import type { SyncFlow } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import { databaseOf, type SystemSide } from '../api/systems.js';
import { quantityBytes } from '../util/quantity.js';
import { ENV_SCRATCH_LIMIT } from '../util/scratch.js';
import { IMAGE_USER_ID, SECRETS_MOUNT_DIR, type ControllerConfig, type ResourceSettings } from './config.js';
import { LABEL_FLOW, LABEL_MANAGED_BY, LABEL_MODE, LABEL_SYNCJOB, MANAGED_BY, boundedName, labelValue } from './labels.js';

export interface JobInput {
  syncJob: SyncJob;
  flow: SyncFlow;
  /** ExportTargets the flow names, by its export settings or its files source (their credential Secrets are mounted). */
  exportTargets?: ExportTarget[];
  config: ControllerConfig;
}


export const ENV_SOURCE_URL = 'FERRY_SOURCE_URL';
export const ENV_TARGET_URL = 'FERRY_TARGET_URL';
export const ENV_STATE_URL = 'FERRY_STATE_DB_URL';
export const ENV_SECRETS_DIR = 'FERRY_SECRETS_DIR';
export const TERMINATION_LOG = '/dev/termination-log';

export function jobNameFor(syncJob: SyncJob): string {
  return boundedName(syncJob.metadata.name, 63);
}

/** V8's heap gets 75% of the memory limit, leaving room for buffers and native memory, so the pod is not OOM-killed first. */
export function heapLimitMiB(resources: ResourceSettings): number | undefined {
  const bytes = quantityBytes(resources.limits?.memory ?? resources.requests?.memory);
  return bytes === undefined ? undefined : Math.max(64, Math.floor((bytes * 0.75) / 1024 ** 2));
}

function secretEnv(name: string, ref: { name: string; key: string }): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

/** The connection URL of a side's database, whatever its kind; none when the side is no database (an export). */
function databaseEnv(flow: SyncFlow, side: SystemSide, name: string): V1EnvVar[] {
  const database = databaseOf(flow.spec[side], side);
  return database ? [secretEnv(name, database.secretRef)] : [];
}

/** Secrets an http side reads (auth keys, CA bundle), mounted read-only like the export pipeline's. */
function httpSecretNames(flow: SyncFlow): string[] {
  return (['source', 'target'] as const).flatMap((side) => {
    const http = flow.spec[side].http;
    return [http?.auth?.secretRef.name, http?.tls?.caSecretRef?.name].filter((n): n is string => n !== undefined);
  });
}

/** Secrets an ExportTarget's connection reads: its credentials (password or key, pinned host key) and CA bundle. */
function targetSecretNames(target: ExportTarget): string[] {
  return [target.spec.credentialsSecretRef.name, ...(target.spec.ftps?.caSecretRef ? [target.spec.ftps.caSecretRef.name] : [])];
}

/** The ExportTargets a flow names: its export's targets and a files source's server. */
export function exportTargetNames(flow: SyncFlow): string[] {
  const files = flow.spec.source.files?.exportTargetRef?.name;
  return [...(flow.spec.target.export?.targets.map((t) => t.name) ?? []), ...(files ? [files] : [])];
}

/** Secrets a files source reads: the OpenPGP decryption key and the sender's pinned public key. */
function filesSecretNames(flow: SyncFlow): string[] {
  const decryption = flow.spec.source.files?.decryption;
  return decryption ? [decryption.secretRef.name, ...(decryption.verify ? [decryption.verify.secretRef.name] : [])] : [];
}

/**
 * Secrets the pod reads as files, mounted read-only: an http side's, a files source's, the named
 * ExportTargets' (export or files source), and the export's OpenPGP keys.
 */
function mountedSecretNames(flow: SyncFlow, targets: ExportTarget[]): string[] {
  const names = new Set<string>([...httpSecretNames(flow), ...filesSecretNames(flow)]);
  const wanted = new Set(exportTargetNames(flow));
  for (const target of targets.filter((t) => wanted.has(t.metadata.name))) targetSecretNames(target).forEach((n) => names.add(n));
  const exportSettings = flow.spec.target.export;
  for (const recipient of exportSettings?.encryption?.recipients ?? []) names.add(recipient.secretRef.name);
  if (exportSettings?.encryption?.signWith) names.add(exportSettings.encryption.signWith.secretRef.name);
  return [...names].sort();
}

/** A files source's directory: its PersistentVolumeClaim at that path, writable only when files are moved. */
function filesVolume(flow: SyncFlow): { volume: V1Volume; mount: V1VolumeMount } | undefined {
  const files = flow.spec.source.files;
  if (!files?.directory || !files.volumeClaim) return undefined;
  const readOnly = files.afterImport !== 'Move' && !files.failedDirectory;
  return {
    volume: { name: 'files', persistentVolumeClaim: { claimName: files.volumeClaim.name, readOnly } },
    mount: { name: 'files', mountPath: files.directory, readOnly },
  };
}

/**
 * The size of the pod's /tmp: the flow's own, else the controller's default for its kind (a files
 * source decodes each new file there, so it gets the larger one).
 */
export function scratchSizeLimit(flow: SyncFlow, config: ControllerConfig): string {
  const defaults = config.jobDefaults.scratch;
  return flow.spec.runner?.scratch?.sizeLimit ?? (flow.spec.source.files ? defaults.filesSizeLimit : defaults.sizeLimit);
}

/**
 * The container's resources with an ephemeral-storage request of the scratch size, so the scheduler
 * places the pod on a node with that much room (no limit: the emptyDir's sizeLimit is the bound).
 */
function containerResources(resources: ResourceSettings, scratch: string): Record<string, Record<string, string>> {
  return { ...resources, requests: { ...resources.requests, 'ephemeral-storage': scratch } } as Record<string, Record<string, string>>;
}

/**
 * The batch/v1 Job that runs one SyncJob: `ferry job --namespace NS --name SYNCJOB` in the controller's
 * image. Credentials reach the pod as env vars and volumes from Secrets, so the pod itself needs no
 * Secret RBAC. Pure: the same input always gives the same Job.
 */
export function buildJob({ syncJob, flow, exportTargets = [], config }: JobInput): V1Job {
  const namespace = syncJob.metadata.namespace ?? 'default';
  const runner = flow.spec.runner ?? {};
  const resources: ResourceSettings = runner.resources ?? config.jobDefaults.resources;
  const labels = {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_FLOW]: labelValue(flow.metadata.name),
    [LABEL_SYNCJOB]: labelValue(syncJob.metadata.name),
    [LABEL_MODE]: syncJob.spec.mode,
  };

  const scratch = scratchSizeLimit(flow, config);
  const env: V1EnvVar[] = [
    ...databaseEnv(flow, 'source', ENV_SOURCE_URL),
    ...databaseEnv(flow, 'target', ENV_TARGET_URL),
    secretEnv(ENV_STATE_URL, config.stateDbSecret),
    { name: ENV_SECRETS_DIR, value: SECRETS_MOUNT_DIR },
    // How much of /tmp the run may fill: a files source keeps decoded files there for later reads within it.
    { name: ENV_SCRATCH_LIMIT, value: scratch },
    { name: 'FERRY_LOG_LEVEL', value: 'info' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  const heap = heapLimitMiB(resources);
  // The young generation pinned too: Node 24's V8 would add 3 x 64 MiB on top of the old space.
  if (heap !== undefined) env.push({ name: 'NODE_OPTIONS', value: `--max-old-space-size=${heap} --max-semi-space-size=16` });

  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: scratch } }];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  mountedSecretNames(flow, exportTargets).forEach((secretName, i) => {
    volumes.push({ name: `secret-${i}`, secret: { secretName, defaultMode: 0o400 } });
    mounts.push({ name: `secret-${i}`, mountPath: `${SECRETS_MOUNT_DIR}/${secretName}`, readOnly: true });
  });
  const files = filesVolume(flow);
  if (files) {
    volumes.push(files.volume);
    mounts.push(files.mount);
  }

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(syncJob),
      namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'SyncJob',
          name: syncJob.metadata.name,
          uid: syncJob.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit: runner.backoffLimit ?? config.jobDefaults.backoffLimit,
      activeDeadlineSeconds: runner.activeDeadlineSeconds ?? config.jobDefaults.activeDeadlineSeconds,
      ttlSecondsAfterFinished: config.jobDefaults.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: config.jobServiceAccountName,
          ...(config.imagePullSecrets?.length ? { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) } : {}),
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_USER_ID,
            runAsGroup: IMAGE_USER_ID,
            fsGroup: IMAGE_USER_ID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'ferry',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              command: config.command,
              args: ['job', '--namespace', namespace, '--name', syncJob.metadata.name],
              env,
              resources: containerResources(resources, scratch),
              volumeMounts: mounts,
              terminationMessagePath: TERMINATION_LOG,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
          volumes,
        },
      },
    },
  };
}
