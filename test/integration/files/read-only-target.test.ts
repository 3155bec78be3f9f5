import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget, ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { exportTargetConditions, readyResult } from '../../../src/controller/exporttarget-conditions.js';
import { probeFilesReaders } from '../../../src/controller/files-read-probe.js';
import { probeExportTarget } from '../../../src/export/probe.js';
import { ferry } from '../../helpers/ferry-process.js';
import { exportFlow, exportOnce, exportSource, tempDir } from '../export/fixtures.js';
import { interopAvailable, startSshd, type Sshd } from '../export/system-servers.js';
import { filesFlowSpec } from './files-source.js';


/**
 * A partner's read-only location: real sshd logging in as nobody, the partner directory root's own
 * (nobody can list and read it, not write). Declared `access: ReadOnly`, the ExportTarget is Ready
 * on what Ferry does there (list, read); the write probe would fail.
 */
describe.skipIf(!interopAvailable)('ExportTarget access: ReadOnly over OpenSSH sshd (a directory the probe user cannot write)', () => {
  let sshd: Sshd;
  let spec: ExportTargetSpec;
  let secrets: Record<string, Record<string, string>>;
  const object = (s: ExportTargetSpec): ExportTarget => ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'ExportTarget', metadata: { name: 'partner', namespace: 'default', generation: 1 }, spec: s });
  const reader = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll', namespace: 'default' }, spec: filesFlowSpec({ exportTargetRef: { name: 'partner' } }) } as SyncFlow;

  beforeAll(async () => {
    sshd = await startSshd({ user: 'nobody' });
    const partner = join(sshd.uploadDir, 'partner');
    mkdirSync(partner, { mode: 0o755 });
    writeFileSync(join(partner, 'employees-20261101.csv.gz.pgp'), 'the partner file');
    spec = { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: partner, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } };
    secrets = { 'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey } };
  }, 60_000);

  afterAll(async () => {
    await sshd?.close();
  });

  it('the write probe fails there; declared ReadOnly, the probe lists instead and writes nothing', async () => {
    expect(await probeExportTarget(spec, secrets, 'partner')).toMatchObject({ ready: false, reason: 'PermissionDenied' });
    const readOnly = await probeExportTarget({ ...spec, access: 'ReadOnly' }, secrets, 'partner');
    expect(readOnly).toEqual({ ready: true, reason: 'Ready', message: `connected, authenticated and listed SFTP 127.0.0.1:${sshd.port} ${spec.directory} (read-only: nothing written)` });
    expect(readdirSync(spec.directory!)).toEqual(['employees-20261101.csv.gz.pgp']);
    expect(await probeExportTarget({ ...spec, access: 'ReadOnly', directory: join(sshd.uploadDir, 'gone') }, secrets, 'partner')).toMatchObject({
      ready: false,
      reason: 'NotFound',
      message: expect.stringMatching(/directory of SFTP .*gone does not exist/),
    });
  }, 60_000);

  it('an export run refuses the read-only target without connecting: the transfer fails naming it, the partner directory is unchanged', async () => {
    const { report } = await exportOnce(await exportSource(), exportFlow({ targets: [{ name: 'partner' }] }), { targets: { partner: { ...spec, access: 'ReadOnly' } }, secrets });
    expect(report.export.transfers.map((t) => [t.target, t.status, t.message])).toEqual([
      ['partner', 'failed', 'ExportTarget "partner" is read-only (spec.access: ReadOnly): an export cannot write to it'],
    ]);
    expect(readdirSync(spec.directory!)).toEqual(['employees-20261101.csv.gz.pgp']);
  }, 90_000);

  it('conditions: ReadWrite shows Ready=False next to FilesReadable=True; ReadOnly is Ready=True on the read probe', async () => {
    const conditions = async (s: ExportTargetSpec) => {
      const target = object(s);
      const read = await probeFilesReaders(target, [reader], secrets);
      const ready = readyResult(target, await probeExportTarget(s, secrets, 'partner'), read);
      return Object.fromEntries(exportTargetConditions(target, ready, read, new Date()).map((c) => [c.type, [c.status, c.reason, c.message]]));
    };
    const readWrite = await conditions(spec);
    expect(readWrite.Ready!.slice(0, 2)).toEqual(['False', 'PermissionDenied']);
    expect(readWrite.FilesReadable!.slice(0, 2)).toEqual(['True', 'Ready']);
    const readOnly = await conditions({ ...spec, access: 'ReadOnly' });
    expect(readOnly.Ready!.slice(0, 2)).toEqual(['True', 'Ready']);
    expect(readOnly.Ready![2]).toContain('SyncFlow payroll: ');
    expect(readOnly.Ready![2]).toContain('employees: read employees-20261101.csv.gz.pgp');
    expect(readOnly.FilesReadable!.slice(0, 2)).toEqual(['True', 'Ready']);
  }, 60_000);

  it('ferry probe (real CLI) reports the read-only target Ready; ferry validate refuses an export to it, naming the field', async () => {
    const dir = tempDir('read-only-target');
    const documents = [
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'ExportTarget', metadata: { name: 'partner' }, spec: { ...spec, access: 'ReadOnly' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sshd-creds' }, stringData: secrets['sshd-creds'] },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: 'postgres://unused@127.0.0.1:1/none' } },
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec: reader.spec },
    ];
    const write = (extra: object[]) => writeFileSync(join(dir, 'manifests.yaml'), [...documents, ...extra].map((d) => JSON.stringify(d)).join('\n---\n'));
    write([]);
    const probe = await ferry(['probe', '-f', dir, '--target', 'partner', '-o', 'json']);
    expect(probe.code, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout)).toMatchObject([{ target: 'partner', ready: true, reason: 'Ready', message: expect.stringContaining('read-only: nothing written') }]);

    write([{ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'nightly' }, spec: exportFlow({ targets: [{ name: 'partner' }] }) }]);
    const validate = await ferry(['validate', '-f', dir]);
    expect(validate.code).toBe(2);
    expect(validate.stdout + validate.stderr).toMatch(/spec\.target\.export\.targets\[0\].*ExportTarget "partner" is read-only \(spec\.access: ReadOnly\): an export cannot write to it/);
  }, 120_000);
});
