import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { FilesEndpoint } from '../../../src/api/files.js';
import { listFilesSource, probeFilesSource } from '../../../src/connectors/files/probe.js';
import { createTestPki } from '../../../src/export/loopback/pki.js';
import { ferry } from '../../helpers/ferry-process.js';
import { tempDir } from '../export/fixtures.js';
import { interopAvailable, startSshd, startVsftpd, type Sshd, type Vsftpd } from '../export/system-servers.js';
import { filesFlowSpec } from './files-source.js';


/**
 * The read probe against real servers whose accounts file permissions bind: sshd logs in as
 * nobody (not root), vsftpd's anonymous user is ftp. Directories: in/ (two files), locked/ (no read
 * permission: it cannot be listed), secret/ (the file cannot be opened).
 */
function layout(root: string): void {
  for (const dir of ['in', 'locked', 'secret']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'in', 'employees-20261101.csv.gz.pgp'), 'older');
  writeFileSync(join(root, 'in', 'employees-20261102.csv.gz.pgp'), 'newest');
  writeFileSync(join(root, 'in', '.employees-20261103.csv.gz.pgp.part'), 'still being written');
  writeFileSync(join(root, 'locked', 'employees-20261101.csv.gz.pgp'), 'x');
  writeFileSync(join(root, 'secret', 'employees-20261101.csv.gz.pgp'), 'x');
  chmodSync(join(root, 'in'), 0o755);
  chmodSync(join(root, 'locked'), 0o711);
  chmodSync(join(root, 'secret'), 0o755);
  chmodSync(join(root, 'secret', 'employees-20261101.csv.gz.pgp'), 0o600);
}

describe.skipIf(!interopAvailable)('files source read probe over OpenSSH sshd and vsftpd (explicit TLS)', () => {
  let sshd: Sshd;
  let vsftpd: Vsftpd;
  let targets: Record<string, ExportTargetSpec>;
  let secrets: Record<string, Record<string, string>>;

  beforeAll(async () => {
    const pki = createTestPki(tempDir('probe-pki'));
    [sshd, vsftpd] = await Promise.all([startSshd({ user: 'nobody' }), startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath })]);
    layout(sshd.uploadDir);
    layout(vsftpd.uploadDir);
    const strangerKey = join(tempDir('probe-keys'), 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    const sftp = { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } } as const;
    targets = {
      sshd: sftp,
      'sshd-wrong-host-key': { ...sftp, sftp: { hostKey: readFileSync(`${strangerKey}.pub`, 'utf8').trim() } },
      'sshd-wrong-user-key': { ...sftp, credentialsSecretRef: { name: 'stranger-creds' } },
      vsftpd: { protocol: 'FTPS', host: '127.0.0.1', port: vsftpd.port, directory: vsftpd.directory, credentialsSecretRef: { name: 'ftp-creds' }, ftps: { caSecretRef: { name: 'ca' } } },
      'vsftpd-wrong-ca': { protocol: 'FTPS', host: '127.0.0.1', port: vsftpd.port, directory: vsftpd.directory, credentialsSecretRef: { name: 'ftp-creds' }, ftps: { caSecretRef: { name: 'other-ca' } } },
    };
    secrets = {
      'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey },
      'stranger-creds': { username: sshd.user, privateKey: readFileSync(strangerKey, 'utf8') },
      'ftp-creds': { username: 'anonymous', password: 'ferry@example.org' },
      ca: { 'ca.crt': pki.caCert },
      'other-ca': { 'ca.crt': createTestPki(tempDir('probe-other-pki')).caCert },
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sshd?.close(), vsftpd?.close()]);
  });

  const probe = (target: string, subdirectory: string, endpoint: Partial<FilesEndpoint> = {}) =>
    probeFilesSource(filesFlowSpec({ exportTargetRef: { name: target }, subdirectory, ...endpoint }), { targets, secrets });

  it.each(['sshd', 'vsftpd'])('%s: lists the directory and opens the newest matching file (not a partner temporary)', async (target) => {
    const result = await probe(target, 'in');
    expect(result).toMatchObject({ ready: true, reason: 'Ready' });
    expect(result.message).toContain('listed in (3 files)');
    expect(result.message).toContain('employees: read employees-20261102.csv.gz.pgp');
  }, 60_000);

  it.each(['sshd', 'vsftpd'])('%s: each failure is one line naming its cause', async (target) => {
    const missing = await probe(target, 'nowhere');
    expect(missing).toMatchObject({ ready: false, reason: 'NotFound', message: expect.stringMatching(/directory nowhere does not exist/) });
    const locked = await probe(target, 'locked');
    expect(locked).toMatchObject({ ready: false, reason: 'PermissionDenied', message: expect.stringMatching(/cannot list directory locked: .*permission denied/i) });
    const secret = await probe(target, 'secret');
    expect(secret).toMatchObject({ ready: false, reason: 'PermissionDenied', message: expect.stringMatching(/cannot read employees-20261101\.csv\.gz\.pgp in secret: /) });
    for (const result of [missing, locked, secret]) expect(result.message).not.toContain('\n');
  }, 60_000);

  it('ferry probe (real CLI) probes the files source of a SyncFlow: one row per flow, exit 1 when one cannot read', async () => {
    const dir = tempDir('probe-cli');
    const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: secrets[name] });
    const flow = (name: string, subdirectory: string) => ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name }, spec: filesFlowSpec({ exportTargetRef: { name: 'vsftpd' }, subdirectory }) });
    const documents = [
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'ExportTarget', metadata: { name: 'vsftpd' }, spec: targets.vsftpd },
      secret('ftp-creds'),
      secret('ca'),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: 'postgres://unused@127.0.0.1:1/none' } },
      flow('payroll', 'in'),
      flow('payroll-secret', 'secret'),
    ];
    writeFileSync(join(dir, 'manifests.yaml'), documents.map((d) => JSON.stringify(d)).join('\n---\n'));
    const good = await ferry(['probe', '-f', dir, '--flow', 'payroll']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('SyncFlow payroll (files)');
    expect(good.stdout).toContain('Ready');
    const all = await ferry(['probe', '-f', dir, '-o', 'json']);
    expect(all.code).toBe(1);
    expect(JSON.parse(all.stdout)).toMatchObject([
      { target: 'vsftpd', ready: true, reason: 'Ready' },
      { flow: 'payroll', ready: true, reason: 'Ready' },
      { flow: 'payroll-secret', ready: false, reason: 'PermissionDenied', message: expect.stringMatching(/cannot read employees-20261101\.csv\.gz\.pgp in secret/) },
    ]);
  }, 120_000);

  it('the ExportTarget’s pinned host key, credentials and CA bundle are the ones used', async () => {
    expect(await probe('sshd-wrong-host-key', 'in')).toMatchObject({ ready: false, reason: 'HostKeyMismatch', message: expect.stringMatching(/does not match the pinned key/) });
    expect(await probe('sshd-wrong-user-key', 'in')).toMatchObject({ ready: false, reason: 'AuthFailed', message: expect.stringMatching(/authentication failed/) });
    expect(await probe('vsftpd-wrong-ca', 'in')).toMatchObject({ ready: false, reason: 'TLSError' });
    const secret = JSON.stringify(secrets['sshd-creds']);
    expect(JSON.stringify(await probe('sshd-wrong-user-key', 'in'))).not.toContain(secret.slice(40, 80));
  }, 60_000);
});

describe('files source read probe of a local directory', () => {
  it('opens the newest matching file; a missing directory is NotFound', async () => {
    const root = tempDir('probe-local');
    layout(root);
    const ok = await probeFilesSource(filesFlowSpec({ directory: root, subdirectory: 'in' }), { targets: {}, secrets: {} });
    expect(ok).toMatchObject({ ready: true, reason: 'Ready', message: expect.stringContaining('employees: read employees-20261102.csv.gz.pgp') });
    const missing = await probeFilesSource(filesFlowSpec({ directory: root, subdirectory: 'nowhere' }), { targets: {}, secrets: {} });
    expect(missing).toMatchObject({ ready: false, reason: 'NotFound', message: expect.stringMatching(/directory .*nowhere does not exist/) });
  });

  it("the controller's listing (settle): looks twice settleSeconds apart, a file written to meanwhile is flagged changing", async () => {
    const root = tempDir('probe-settle');
    layout(root);
    const growing = join(root, 'in', 'employees-20261104.csv.gz.pgp');
    writeFileSync(growing, 'a');
    const writer = setInterval(() => appendFileSync(growing, 'more'), 100);
    try {
      const started = Date.now();
      const { result, listing } = await listFilesSource(filesFlowSpec({ directory: root, subdirectory: 'in', settleSeconds: 1 }), { targets: {}, secrets: {} }, { settle: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(result.ready).toBe(true);
      expect(listing!.entries.map((e) => e.name).sort()).toEqual(['.employees-20261103.csv.gz.pgp.part', 'employees-20261101.csv.gz.pgp', 'employees-20261102.csv.gz.pgp', 'employees-20261104.csv.gz.pgp']);
      expect([...listing!.changing]).toEqual(['employees-20261104.csv.gz.pgp']);
    } finally {
      clearInterval(writer);
    }
  });
});
