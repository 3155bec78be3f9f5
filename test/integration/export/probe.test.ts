import { readdirSync } from 'node:fs';
import { generateEd25519KeyPair } from '../../../src/util/ssh-keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackFtps } from '../../../src/export/loopback/ftps-server.js';
import { startLoopbackSftp, type LoopbackSftpServer } from '../../../src/export/loopback/sftp-server.js';
import { probeExportTarget } from '../../../src/export/probe.js';
import { startDestinations, tempDir, type Destinations } from './fixtures.js';

describe('probeExportTarget', () => {
  let servers: Destinations;
  let readOnly: LoopbackSftpServer;
  let keyAuth: LoopbackSftpServer;
  const clientKey = generateEd25519KeyPair();

  beforeAll(async () => {
    servers = await startDestinations();
    readOnly = await startLoopbackSftp({ root: tempDir('ro'), username: 'ferry', password: 'sftp-secret', readOnly: true });
    keyAuth = await startLoopbackSftp({ root: tempDir('keyauth'), username: 'ferry', authorizedKey: clientKey.public });
  });
  afterAll(async () => {
    await servers?.close();
    await readOnly?.close();
    await keyAuth?.close();
  });

  it('is Ready for a working SFTP (password) and FTPS target and leaves no probe file behind', async () => {
    for (const name of ['sftp', 'ftps'] as const) {
      const result = await probeExportTarget(servers.targets[name], servers.secrets);
      expect(result, name).toMatchObject({ ready: true, reason: 'Ready' });
      expect(result.warning).toBeUndefined();
    }
    expect(readdirSync(servers.sftpRoot)).toEqual([]);
    expect(readdirSync(servers.ftpsRoot)).toEqual([]);
  });

  it('is Ready with private-key authentication and a pinned fingerprint', async () => {
    const spec = { ...servers.targets.sftp, port: keyAuth.port, sftp: { hostKeyFingerprint: keyAuth.hostKeyFingerprint } };
    const result = await probeExportTarget(spec, { 'sftp-creds': { username: 'ferry', privateKey: clientKey.private } });
    expect(result).toMatchObject({ ready: true, reason: 'Ready' });
  });

  it('reports each classified reason', async () => {
    const other = generateEd25519KeyPair().public;
    const cases: [string, Parameters<typeof probeExportTarget>[0], Parameters<typeof probeExportTarget>[1]][] = [
      ['HostKeyMismatch', { ...servers.targets.sftp, sftp: { hostKey: other } }, servers.secrets],
      ['AuthFailed', servers.targets.sftp, { ...servers.secrets, 'sftp-creds': { username: 'ferry', password: 'nope' } }],
      ['AuthFailed', servers.targets.ftps, { ...servers.secrets, 'ftps-creds': { username: 'ferry', password: 'nope' } }],
      ['TLSError', { ...servers.targets.ftps, ftps: {} }, servers.secrets],
      ['Unreachable', { ...servers.targets.sftp, port: 1 }, servers.secrets],
      ['PermissionDenied', { ...servers.targets.sftp, port: readOnly.port, sftp: { hostKey: readOnly.hostKey } }, servers.secrets],
      ['InvalidConfig', servers.targets.sftp, {}],
    ];
    for (const [reason, spec, secrets] of cases) {
      const result = await probeExportTarget(spec, secrets);
      expect(result, reason).toMatchObject({ ready: false, reason });
      expect(result.message).not.toMatch(/nope|sftp-secret|ftps-secret/);
    }
  });

  it('accepts an unverified certificate only when the spec says insecureSkipVerify, and warns about it', async () => {
    const result = await probeExportTarget({ ...servers.targets.ftps, ftps: { insecureSkipVerify: true } }, servers.secrets);
    expect(result).toMatchObject({ ready: true, reason: 'Ready' });
    expect(result.warning).toMatch(/not verified/);
  });

  it('speaks plain FTP only when the ExportTarget says insecure: true, and then warns', async () => {
    const plain = await startLoopbackFtps({ root: tempDir('plain-ftp'), username: 'ferry', password: 'ftps-secret' });
    try {
      const spec = { protocol: 'FTP' as const, host: '127.0.0.1', port: plain.port, credentialsSecretRef: { name: 'ftps-creds' } };
      expect(await probeExportTarget(spec, servers.secrets)).toMatchObject({ ready: false, reason: 'InvalidConfig' });
      const allowed = await probeExportTarget({ ...spec, insecure: true }, servers.secrets);
      expect(allowed).toMatchObject({ ready: true, reason: 'Ready' });
      expect(allowed.warning).toMatch(/plain FTP/);
      // An FTPS target never falls back to plain FTP.
      expect(await probeExportTarget({ ...spec, protocol: 'FTPS' }, servers.secrets)).toMatchObject({ ready: false, reason: 'TLSError' });
    } finally {
      await plain.close();
    }
  });

  it('accepts an unpinned SFTP host key only with insecure: true, and warns', async () => {
    const { sftp: _pin, ...unpinned } = servers.targets.sftp;
    expect(await probeExportTarget(unpinned, servers.secrets)).toMatchObject({ ready: false, reason: 'InvalidConfig' });
    const allowed = await probeExportTarget({ ...unpinned, insecure: true }, servers.secrets);
    expect(allowed).toMatchObject({ ready: true, reason: 'Ready' });
    expect(allowed.warning).toMatch(/not pinned/);
  });
});
