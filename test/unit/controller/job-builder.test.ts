import { describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../../src/api/exporttarget.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { DEFAULT_JOB_DEFAULTS, type ControllerConfig } from '../../../src/controller/config.js';
import { buildJob, heapLimitMiB, jobNameFor } from '../../../src/controller/job-builder.js';
import { quantityBytes } from '../../../src/util/quantity.js';

const config: ControllerConfig = {
  image: 'ghcr.io/example/ferry:1.2.3',
  command: ['ferry'],
  jobServiceAccountName: 'ferry-job',
  stateDbSecret: { name: 'ferry-state', key: 'url' },
  jobDefaults: DEFAULT_JOB_DEFAULTS,
};

const flow = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncFlow',
  metadata: { name: 'crm', namespace: 'sync', uid: 'flow-uid' },
  spec: {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'website-db' } } },
    target: { postgres: { secretRef: { name: 'crm-db', key: 'dsn' } } },
    entities: [],
  },
} as unknown as SyncFlow;

const syncJob = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncJob',
  metadata: { name: 'crm-manual-1', namespace: 'sync', uid: 'job-uid' },
  spec: { flowRef: { name: 'crm' }, mode: 'Full' },
} as SyncJob;

describe('buildJob', () => {
  const job = buildJob({ syncJob, flow, config });
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0];

  it('is owned by the SyncJob and labelled for the flow', () => {
    expect(job.metadata?.ownerReferences).toEqual([
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncJob', name: 'crm-manual-1', uid: 'job-uid', controller: true, blockOwnerDeletion: true },
    ]);
    expect(job.metadata?.labels).toMatchObject({ 'ferry.dev/flow': 'crm', 'ferry.dev/syncjob': 'crm-manual-1', 'ferry.dev/mode': 'Full', 'app.kubernetes.io/managed-by': 'ferry' });
    expect(job.spec?.template.metadata?.labels).toEqual(job.metadata?.labels);
    expect(job.metadata?.namespace).toBe('sync');
  });

  it('runs ferry job for the SyncJob in the controller image', () => {
    expect(container.image).toBe('ghcr.io/example/ferry:1.2.3');
    expect(container.command).toEqual(['ferry']);
    expect(container.args).toEqual(['job', '--namespace', 'sync', '--name', 'crm-manual-1']);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe('ferry-job');
  });

  it('passes image pull secrets on only when configured', () => {
    expect(pod.imagePullSecrets).toBeUndefined();
    const withSecrets = buildJob({ syncJob, flow, config: { ...config, imagePullSecrets: ['registry-pull'] } });
    expect(withSecrets.spec!.template.spec!.imagePullSecrets).toEqual([{ name: 'registry-pull' }]);
  });

  it('sets retry, deadline and cleanup limits', () => {
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.activeDeadlineSeconds).toBe(21600);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(604800);
  });

  it('runs restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
    // The image's own user (Dockerfile USER 10001), so files the image owns stay readable.
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('passes credentials as secretKeyRef env vars, never as values', () => {
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e]));
    expect(env.FERRY_SOURCE_URL.valueFrom?.secretKeyRef).toEqual({ name: 'website-db', key: 'url' });
    expect(env.FERRY_TARGET_URL.valueFrom?.secretKeyRef).toEqual({ name: 'crm-db', key: 'dsn' });
    expect(env.FERRY_STATE_DB_URL.valueFrom?.secretKeyRef).toEqual({ name: 'ferry-state', key: 'url' });
    expect(container.env!.filter((e) => e.name.endsWith('_URL')).every((e) => e.value === undefined)).toBe(true);
  });

  it('sizes the V8 heap from the memory limit', () => {
    expect(container.resources).toEqual({
      requests: { ...DEFAULT_JOB_DEFAULTS.resources.requests, 'ephemeral-storage': '1Gi' },
      limits: DEFAULT_JOB_DEFAULTS.resources.limits,
    });
    expect(container.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=768 --max-semi-space-size=16' });
    expect(quantityBytes('512Mi')).toBe(512 * 1024 * 1024);
    expect(quantityBytes('2G')).toBe(2e9);
    expect(quantityBytes('lots')).toBeUndefined();
    expect(heapLimitMiB({ requests: { memory: '256Mi' } })).toBe(192);
  });

  it('takes resources and limits from the flow when it sets them', () => {
    const tuned = { ...flow, spec: { ...flow.spec, runner: { resources: { limits: { memory: '4Gi', cpu: '2' } }, backoffLimit: 2, activeDeadlineSeconds: 600 } } } as unknown as SyncFlow;
    const built = buildJob({ syncJob, flow: tuned, config });
    expect(built.spec?.backoffLimit).toBe(2);
    expect(built.spec?.activeDeadlineSeconds).toBe(600);
    expect(built.spec!.template.spec!.containers[0].resources).toEqual({ limits: { memory: '4Gi', cpu: '2' }, requests: { 'ephemeral-storage': '1Gi' } });
    expect(built.spec!.template.spec!.containers[0].env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=3072 --max-semi-space-size=16' });
  });

  it('mounts the export targets credential and key Secrets read-only', () => {
    const exportFlow = {
      ...flow,
      spec: {
        ...flow.spec,
        target: { export: { format: 'CSV', mode: 'Snapshot', targets: [{ name: 'partner' }], encryption: { recipients: [{ secretRef: { name: 'pgp' } }] } } },
      },
    } as unknown as SyncFlow;
    const target = { metadata: { name: 'partner' }, spec: { protocol: 'SFTP', host: 'h', credentialsSecretRef: { name: 'partner-login' } } } as ExportTarget;
    const other = { metadata: { name: 'other' }, spec: { protocol: 'SFTP', host: 'h', credentialsSecretRef: { name: 'unrelated' } } } as ExportTarget;
    const built = buildJob({ syncJob, flow: exportFlow, exportTargets: [target, other], config });
    const spec = built.spec!.template.spec!;
    expect(spec.volumes?.filter((v) => v.secret).map((v) => v.secret!.secretName)).toEqual(['partner-login', 'pgp']);
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'secret-0', mountPath: '/var/run/ferry/secrets/partner-login', readOnly: true });
    expect(spec.containers[0].env!.some((e) => e.name === 'FERRY_TARGET_URL')).toBe(false);
  });

  it('mounts an http target\'s auth and CA Secrets read-only, with no URL env var for it', () => {
    const httpFlow = {
      ...flow,
      spec: {
        ...flow.spec,
        target: { http: { baseUrl: 'https://www.example.org/wp-json', auth: { type: 'Basic', secretRef: { name: 'wordpress-api' } }, tls: { caSecretRef: { name: 'site-ca' } } } },
      },
    } as unknown as SyncFlow;
    const spec = buildJob({ syncJob, flow: httpFlow, config }).spec!.template.spec!;
    expect(spec.volumes?.filter((v) => v.secret).map((v) => v.secret!.secretName)).toEqual(['site-ca', 'wordpress-api']);
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'secret-1', mountPath: '/var/run/ferry/secrets/wordpress-api', readOnly: true });
    expect(spec.containers[0].env!.some((e) => e.name === 'FERRY_TARGET_URL')).toBe(false);
  });

  const filesFlow = (files: Record<string, unknown>) =>
    ({ ...flow, spec: { ...flow.spec, source: { files } } }) as unknown as SyncFlow;

  it('a files source on an ExportTarget: mounts its credentials and CA, the decryption and signer Secrets; no source URL', () => {
    const server = {
      metadata: { name: 'payroll-sftp' },
      spec: { protocol: 'FTPS', host: 'h', credentialsSecretRef: { name: 'payroll-login' }, ftps: { caSecretRef: { name: 'payroll-ca' } } },
    } as unknown as ExportTarget;
    const other = { metadata: { name: 'other' }, spec: { protocol: 'SFTP', host: 'h', credentialsSecretRef: { name: 'unrelated' } } } as ExportTarget;
    const decryption = { secretRef: { name: 'payroll-pgp' }, verify: { secretRef: { name: 'payroll-signer' } } };
    const built = buildJob({ syncJob, flow: filesFlow({ exportTargetRef: { name: 'payroll-sftp' }, decryption }), exportTargets: [server, other], config });
    const spec = built.spec!.template.spec!;
    expect(spec.volumes?.filter((v) => v.secret).map((v) => v.secret!.secretName)).toEqual(['payroll-ca', 'payroll-login', 'payroll-pgp', 'payroll-signer']);
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'secret-2', mountPath: '/var/run/ferry/secrets/payroll-pgp', readOnly: true });
    expect(spec.containers[0].env!.some((e) => e.name === 'FERRY_SOURCE_URL')).toBe(false);
    expect(spec.volumes?.some((v) => v.persistentVolumeClaim)).toBe(false);
  });

  it('a files source in a directory: its PersistentVolumeClaim at that path, read-only unless files are moved', () => {
    const leave = buildJob({ syncJob, flow: filesFlow({ directory: '/inbox', volumeClaim: { name: 'partner-drop' } }), config }).spec!.template.spec!;
    expect(leave.volumes).toContainEqual({ name: 'files', persistentVolumeClaim: { claimName: 'partner-drop', readOnly: true } });
    expect(leave.containers[0].volumeMounts).toContainEqual({ name: 'files', mountPath: '/inbox', readOnly: true });
    const move = buildJob({ syncJob, flow: filesFlow({ directory: '/inbox', volumeClaim: { name: 'partner-drop' }, afterImport: 'Move' }), config }).spec!.template.spec!;
    expect(move.containers[0].volumeMounts).toContainEqual({ name: 'files', mountPath: '/inbox', readOnly: false });
    const failed = buildJob({ syncJob, flow: filesFlow({ directory: '/inbox', volumeClaim: { name: 'partner-drop' }, failedDirectory: 'failed' }), config }).spec!.template.spec!;
    expect(failed.volumes).toContainEqual({ name: 'files', persistentVolumeClaim: { claimName: 'partner-drop', readOnly: false } });
  });

  describe('scratch space (/tmp)', () => {
    const scratchOf = (built: ReturnType<typeof buildJob>) => {
      const spec = built.spec!.template.spec!;
      return {
        sizeLimit: spec.volumes!.find((v) => v.name === 'tmp')!.emptyDir!.sizeLimit,
        request: spec.containers[0].resources!.requests!['ephemeral-storage'],
        // The run's process is told the size: a files source keeps decoded files within half of it.
        told: spec.containers[0].env!.find((e) => e.name === 'FERRY_SCRATCH_LIMIT')?.value,
      };
    };
    const withRunner = (base: SyncFlow, runner: Record<string, unknown>) => ({ ...base, spec: { ...base.spec, runner } }) as unknown as SyncFlow;
    const files = filesFlow({ directory: '/inbox', volumeClaim: { name: 'partner-drop' } });
    const platform: ControllerConfig = { ...config, jobDefaults: { ...DEFAULT_JOB_DEFAULTS, scratch: { sizeLimit: '2Gi', filesSizeLimit: '50Gi' } } };

    it('is 1Gi by default, requested as ephemeral-storage so the pod lands on a node with room', () => {
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } });
      expect(scratchOf(job)).toEqual({ sizeLimit: '1Gi', request: '1Gi', told: '1Gi' });
      // A request only: the emptyDir's sizeLimit bounds /tmp, and container logs do not count against it.
      expect(container.resources!.limits).not.toHaveProperty('ephemeral-storage');
    });

    it('is 10Gi by default for a files source, which decodes the files a run imports there', () => {
      expect(scratchOf(buildJob({ syncJob, flow: files, config }))).toEqual({ sizeLimit: '10Gi', request: '10Gi', told: '10Gi' });
    });

    it("comes from the controller's defaults (the chart's jobs.scratch) when the flow sets none", () => {
      expect(scratchOf(buildJob({ syncJob, flow, config: platform }))).toEqual({ sizeLimit: '2Gi', request: '2Gi', told: '2Gi' });
      expect(scratchOf(buildJob({ syncJob, flow: files, config: platform }))).toEqual({ sizeLimit: '50Gi', request: '50Gi', told: '50Gi' });
    });

    it("the flow's runner.scratch.sizeLimit wins, next to its own resources", () => {
      expect(scratchOf(buildJob({ syncJob, flow: withRunner(files, { scratch: { sizeLimit: '20Gi' } }), config: platform }))).toEqual({ sizeLimit: '20Gi', request: '20Gi', told: '20Gi' });
      expect(scratchOf(buildJob({ syncJob, flow: withRunner(flow, { scratch: { sizeLimit: '512Mi' } }), config: platform }))).toEqual({ sizeLimit: '512Mi', request: '512Mi', told: '512Mi' });
      const tuned = buildJob({ syncJob, flow: withRunner(files, { scratch: { sizeLimit: '20Gi' }, resources: { requests: { cpu: '1', memory: '2Gi' } } }), config });
      expect(tuned.spec!.template.spec!.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '20Gi' } });
    });

    it('leaves the inputs as they were (the same input gives the same Job)', () => {
      const runner = { resources: { requests: { cpu: '1' } }, scratch: { sizeLimit: '20Gi' } };
      const tuned = withRunner(files, runner);
      const first = buildJob({ syncJob, flow: tuned, config });
      expect(runner.resources).toEqual({ requests: { cpu: '1' } });
      expect(DEFAULT_JOB_DEFAULTS.resources.requests).not.toHaveProperty('ephemeral-storage');
      expect(buildJob({ syncJob, flow: tuned, config })).toEqual(first);
    });
  });

  it('keeps Job names within 63 characters and unique', () => {
    const long = { ...syncJob, metadata: { ...syncJob.metadata, name: `${'a'.repeat(50)}-nightly-1767225605` } };
    const other = { ...syncJob, metadata: { ...syncJob.metadata, name: `${'a'.repeat(50)}-nightly-1767225610` } };
    expect(jobNameFor(long).length).toBeLessThanOrEqual(63);
    expect(jobNameFor(long)).not.toBe(jobNameFor(other));
    expect(jobNameFor(syncJob)).toBe('crm-manual-1');
  });
});
