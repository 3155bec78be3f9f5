import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateEd25519KeyPair } from '../../../src/util/ssh-keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import { createTestPki, type TestPki } from '../../../src/export/loopback/pki.js';
import { probeExportTarget } from '../../../src/export/probe.js';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, tempDir } from './fixtures.js';
import { interopAvailable, startSshd, startVsftpd, type Sshd, type Vsftpd } from './system-servers.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');


describe.skipIf(!interopAvailable)('interop with OpenSSH sshd (internal-sftp) and vsftpd (TLS)', () => {
  let sshd: Sshd;
  let vsftpd: Vsftpd;
  let vsftpdImplicit: Vsftpd;
  let pki: TestPki;
  let urls: { sourceUrl: string; stateUrl: string };
  let targets: Record<string, ExportTargetSpec>;
  let secrets: Record<string, Record<string, string>>;
  let flows = 0;

  beforeAll(async () => {
    pki = createTestPki(tempDir('interop-pki'));
    [sshd, vsftpd, vsftpdImplicit] = await Promise.all([
      startSshd(),
      startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath }),
      startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath }, true),
    ]);
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) =>
      c.query(`INSERT INTO members SELECT g, 'Member ' || g, 'm' || g || '@example.org', g, '2026-02-01 08:00:00+00' FROM generate_series(1, 5000) g`),
    );
    const fast = { maxAttempts: 2, initialDelaySeconds: 0.05 };
    targets = {
      sshd: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey }, retry: fast },
      vsftpd: { protocol: 'FTPS', host: '127.0.0.1', port: vsftpd.port, directory: vsftpd.directory, credentialsSecretRef: { name: 'ftp-creds' }, ftps: { caSecretRef: { name: 'ca' } }, retry: fast },
      implicit: {
        protocol: 'FTPS-Implicit',
        host: '127.0.0.1',
        port: vsftpdImplicit.port,
        directory: vsftpdImplicit.directory,
        credentialsSecretRef: { name: 'ftp-creds' },
        ftps: { caSecretRef: { name: 'ca' } },
        retry: fast,
      },
    };
    secrets = {
      'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey },
      'ftp-creds': { username: 'anonymous', password: 'ferry@example.org' },
      ca: { 'ca.crt': pki.caCert },
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all([sshd?.close(), vsftpd?.close(), vsftpdImplicit?.close()]);
  });

  it('delivers the same file to sshd, vsftpd (explicit TLS) and vsftpd (implicit TLS), byte for byte', async () => {
    const spec = exportFlow({ compression: 'Gzip', targets: [{ name: 'sshd' }, { name: 'vsftpd' }, { name: 'implicit' }], fileNameTemplate: 'interop_{entity}' });
    const { report, failure } = await exportOnce(urls, spec, { targets, secrets }, { flowId: `default/interop-${flows++}` });
    expect(failure).toBeUndefined();
    const { sha256: expected, name } = report.export.files[0];
    for (const dir of [sshd.uploadDir, vsftpd.uploadDir, vsftpdImplicit.uploadDir]) {
      expect(readdirSync(dir)).toEqual([name]);
      expect(sha256(readFileSync(join(dir, name)))).toBe(expected);
    }
  });

  it('replaces an existing file of the same name on both servers (re-transfer)', async () => {
    const flowId = `default/interop-${flows++}`;
    const spec = exportFlow({ targets: [{ name: 'sshd' }, { name: 'vsftpd' }], fileNameTemplate: 'again_{entity}' });
    const first = await exportOnce(urls, spec, { targets, secrets }, { flowId });
    const again = await exportOnce(urls, spec, { targets, secrets, retransfer: { runId: first.report.runId } }, { flowId, mode: 'Retransfer' });
    expect(again.failure).toBeUndefined();
    for (const dir of [sshd.uploadDir, vsftpd.uploadDir]) {
      expect(sha256(readFileSync(join(dir, 'again_members.csv')))).toBe(first.report.export.files[0].sha256);
      expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    }
  });

  it('probes Ready, and classifies a wrong host key, a refused login and an untrusted certificate', async () => {
    expect(await probeExportTarget(targets.sshd, secrets)).toMatchObject({ ready: true, reason: 'Ready' });
    expect(await probeExportTarget(targets.vsftpd, secrets)).toMatchObject({ ready: true, reason: 'Ready' });
    const otherKey = generateEd25519KeyPair().public;
    expect(await probeExportTarget({ ...targets.sshd, sftp: { hostKey: otherKey } }, secrets)).toMatchObject({ reason: 'HostKeyMismatch' });
    const stranger = generateEd25519KeyPair().private;
    expect(await probeExportTarget(targets.sshd, { ...secrets, 'sshd-creds': { username: sshd.user, privateKey: stranger } })).toMatchObject({ reason: 'AuthFailed' });
    expect(await probeExportTarget(targets.vsftpd, { ...secrets, 'ftp-creds': { username: 'someone', password: 'x' } })).toMatchObject({ reason: 'AuthFailed' });
    expect(await probeExportTarget({ ...targets.vsftpd, ftps: {} }, secrets)).toMatchObject({ reason: 'TLSError' });
  });
});
