import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../src/api/exporttarget.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { freshDatabase } from '../helpers/databases.js';
import { interopAvailable, startSshd, type Sshd } from '../integration/export/system-servers.js';
import { exportFlow } from '../integration/export/fixtures.js';
import { filesFlowSpec } from '../integration/files/files-source.js';
import { createNamespace, createSecret, kubeClient, startController, waitFor } from './fixtures/env.js';

const ns = 'e2e-files-probe';

/** The controller shows the read probe of a files source on the ExportTarget it reads through (real sshd, logged in as nobody). */
describe.skipIf(!interopAvailable)('ExportTarget status: FilesReadable from the read probe of the files sources using it', () => {
  let kube: Kube;
  let sshd: Sshd;
  let controller: Controller | undefined;

  beforeAll(async () => {
    kube = kubeClient();
    await createNamespace(kube, ns);
    const stateUrl = await freshDatabase('e2e_files_probe_state');
    await createSecret(kube, ns, 'ferry-state-db', { url: stateUrl });
    sshd = await startSshd({ user: 'nobody' });
    for (const dir of ['in', 'locked', 'partner']) mkdirSync(join(sshd.uploadDir, dir));
    for (const dir of ['in', 'partner']) writeFileSync(join(sshd.uploadDir, dir, 'employees-20261101.csv.gz.pgp'), 'x');
    chmodSync(join(sshd.uploadDir, 'locked'), 0o711);
    await createSecret(kube, ns, 'sshd-creds', { username: sshd.user, privateKey: sshd.clientPrivateKey });
    controller = await startController(ns, stateUrl);
  }, 120_000);

  afterAll(async () => {
    await controller?.stop().catch(() => {});
    await sshd?.close();
  });

  const readable = (status: string) =>
    waitFor(`FilesReadable ${status}`, async () => {
      const target = await kube.get<ExportTarget>('ExportTarget', ns, 'payroll-sftp');
      return target.status?.conditions?.find((c) => c.type === 'FilesReadable' && c.status === status);
    }, 60_000);

  it('True while the flows can list and read; False with PermissionDenied once one reads a directory it cannot list; gone with the flows', async () => {
    await kube.create<ExportTarget>('ExportTarget', {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'payroll-sftp', namespace: ns },
      spec: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } },
    });
    const flow: SyncFlow = {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncFlow',
      metadata: { name: 'payroll', namespace: ns },
      spec: filesFlowSpec({ exportTargetRef: { name: 'payroll-sftp' }, subdirectory: 'in' }),
    };
    await kube.create<SyncFlow>('SyncFlow', flow);
    const ok = await readable('True');
    expect(ok.reason).toBe('Ready');
    expect(ok.message).toContain('SyncFlow payroll: ');
    expect(ok.message).toContain('employees: read employees-20261101.csv.gz.pgp');

    // A new flow reading through the target is probed at once (its SyncFlow event enqueues the ExportTarget).
    await kube.create<SyncFlow>('SyncFlow', { ...flow, metadata: { name: 'payroll-locked', namespace: ns }, spec: filesFlowSpec({ exportTargetRef: { name: 'payroll-sftp' }, subdirectory: 'locked' }) });
    const denied = await readable('False');
    expect(denied.reason).toBe('PermissionDenied');
    expect(denied.message).toMatch(/SyncFlow payroll: .*read employees-20261101/);
    expect(denied.message).toMatch(/SyncFlow payroll-locked: .*cannot list directory locked/);
    expect(denied.message).not.toContain('PRIVATE KEY');

    await kube.delete('SyncFlow', ns, 'payroll');
    await kube.delete('SyncFlow', ns, 'payroll-locked');
    await waitFor('FilesReadable removed', async () => {
      const target = await kube.get<ExportTarget>('ExportTarget', ns, 'payroll-sftp');
      return !target.status?.conditions?.some((c) => c.type === 'FilesReadable');
    }, 60_000);
  }, 180_000);

  it('a ReadOnly ExportTarget on a directory nobody cannot write: Ready follows the read probe (True), and an export naming it is Stalled', async () => {
    // partner/ is root's (made by this test): nobody lists and reads it, a probe file could not be written.
    await kube.create<ExportTarget>('ExportTarget', {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'partner-ro', namespace: ns },
      spec: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: join(sshd.uploadDir, 'partner'), credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey }, access: 'ReadOnly' },
    });
    await kube.create<SyncFlow>('SyncFlow', { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll-ro', namespace: ns }, spec: filesFlowSpec({ exportTargetRef: { name: 'partner-ro' } }) });
    const ready = await waitFor('Ready and FilesReadable True', async () => {
      const target = await kube.get<ExportTarget>('ExportTarget', ns, 'partner-ro');
      const conditions = target.status?.conditions ?? [];
      const read = conditions.find((c) => c.type === 'FilesReadable' && c.status === 'True');
      return read && conditions.find((c) => c.type === 'Ready' && c.status === 'True');
    }, 60_000);
    expect(ready.message).toContain('read-only: nothing written');
    expect(ready.message).toContain('SyncFlow payroll-ro: ');

    await kube.create<SyncFlow>('SyncFlow', { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'nightly', namespace: ns }, spec: exportFlow({ targets: [{ name: 'partner-ro' }] }) });
    const stalled = await waitFor('export flow Stalled', async () => {
      const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'nightly');
      return flow.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    }, 60_000);
    expect(stalled.message).toContain('spec.target.export.targets[0]: ExportTarget "partner-ro" is read-only (spec.access: ReadOnly): an export cannot write to it');
  }, 180_000);
});
