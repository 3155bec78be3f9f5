import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../src/api/exporttarget.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { freshDatabase } from '../helpers/databases.js';
import { INTEROP_HINT, interopAvailable, startSshd, type Sshd } from '../integration/export/system-servers.js';
import { filesFlowSpec } from '../integration/files/files-source.js';
import { createNamespace, createSecret, kubeClient, startController, waitFor } from './fixtures/env.js';

const ns = 'e2e-files-probe';
if (!interopAvailable) console.warn(INTEROP_HINT);

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
    for (const dir of ['in', 'locked']) mkdirSync(join(sshd.uploadDir, dir));
    writeFileSync(join(sshd.uploadDir, 'in', 'employees-20261101.csv.gz.pgp'), 'x');
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
});
