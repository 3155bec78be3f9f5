import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateEd25519KeyPair } from '../../../src/util/ssh-keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackSftp } from '../../../src/export/loopback/sftp-server.js';
import { startLoopbackFtps } from '../../../src/export/loopback/ftps-server.js';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, receivedFiles, startDestinations, tempDir, type Destinations } from './fixtures.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('transfers', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };
  let flowCounter = 0;
  const flowId = () => `default/transfers-${flowCounter++}`;

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) =>
      c.query(`INSERT INTO members SELECT g, 'Member ' || g, 'm' || g || '@example.org', g, '2026-02-01 08:00:00+00' FROM generate_series(1, 3000) g`),
    );
  });
  afterAll(async () => {
    await servers?.close();
  });

  const namesIn = (root: string, prefix: string) => readdirSync(root).filter((n) => n.includes(prefix));

  it('a connection killed mid-upload never leaves a partial file under the final name; the retry delivers all of it', async () => {
    const root = tempDir('sftp-drop');
    const flaky = await startLoopbackSftp({ root, username: 'ferry', password: 'pw', dropAfterBytes: 32 * 1024, dropOnUpload: 1 });
    const seen: number[] = [];
    const watcher = setInterval(() => {
      try {
        seen.push(statSync(join(root, 'atomic_members.csv')).size);
      } catch {
        // not there yet
      }
    }, 2);
    try {
      const targets = { flaky: { ...servers.targets.sftp, port: flaky.port, sftp: { hostKeyFingerprint: flaky.hostKeyFingerprint } } };
      const spec = exportFlow({ targets: [{ name: 'flaky' }], fileNameTemplate: 'atomic_{entity}' });
      const { report, failure } = await exportOnce(urls, spec, { targets, secrets: { 'sftp-creds': { username: 'ferry', password: 'pw' } } }, { flowId: flowId() });
      expect(failure).toBeUndefined();
      const [transfer] = report.export.transfers;
      expect(transfer).toMatchObject({ status: 'transferred', attempts: 2 });
      expect(flaky.uploads).toBe(2);
      const content = readFileSync(join(root, 'atomic_members.csv'));
      expect(content.length).toBe(report.export.files[0].bytes);
      expect(content.length).toBeGreaterThan(64 * 1024);
      expect(sha256(content)).toBe(report.export.files[0].sha256);
      // Whenever the final name was visible, it had the full size.
      expect(seen.every((size) => size === content.length)).toBe(true);
      // The retry reused the temporary name, so nothing is left behind.
      expect(readdirSync(root)).toEqual(['atomic_members.csv']);
    } finally {
      clearInterval(watcher);
      await flaky.close();
    }
  });

  it('refuses a server whose host key does not match the pin: HostKeyMismatch, one attempt, nothing uploaded', async () => {
    const otherKey = generateEd25519KeyPair().public;
    const targets = { sftp: { ...servers.targets.sftp, sftp: { hostKey: otherKey } } };
    const spec = exportFlow({ fileNameTemplate: 'hostkey_{entity}' });
    const { report, failure } = await exportOnce(urls, spec, { targets, secrets: servers.secrets }, { flowId: flowId() });
    expect(failure).toBeDefined();
    expect(report.export.result).toBe('SomeTransfersFailed');
    expect(report.export.transfers[0]).toMatchObject({ status: 'failed', reason: 'HostKeyMismatch', attempts: 1 });
    expect(namesIn(servers.sftpRoot, 'hostkey_')).toEqual([]);
  });

  it('a wrong SFTP password is AuthFailed without retries and uploads nothing', async () => {
    const spec = exportFlow({ fileNameTemplate: 'badpw_{entity}' });
    const secrets = { ...servers.secrets, 'sftp-creds': { username: 'ferry', password: 'wrong' } };
    const { report } = await exportOnce(urls, spec, { targets: servers.targets, secrets }, { flowId: flowId() });
    expect(report.export.transfers[0]).toMatchObject({ status: 'failed', reason: 'AuthFailed', attempts: 1 });
    expect(report.export.transfers[0].message).not.toContain('wrong');
    expect(namesIn(servers.sftpRoot, 'badpw_')).toEqual([]);
  });

  it('a wrong FTPS password is AuthFailed', async () => {
    const spec = exportFlow({ targets: [{ name: 'ftps' }], fileNameTemplate: 'badftppw_{entity}' });
    const secrets = { ...servers.secrets, 'ftps-creds': { username: 'ferry', password: 'wrong' } };
    const { report } = await exportOnce(urls, spec, { targets: servers.targets, secrets }, { flowId: flowId() });
    expect(report.export.transfers[0]).toMatchObject({ status: 'failed', reason: 'AuthFailed', attempts: 1 });
    expect(namesIn(servers.ftpsRoot, 'badftppw_')).toEqual([]);
  });

  it('an FTPS certificate not signed by a trusted CA is a TLSError and nothing is uploaded', async () => {
    const { caSecretRef: _ignored, ...noCa } = servers.targets.ftps.ftps!;
    const targets = { ftps: { ...servers.targets.ftps, ftps: noCa } };
    const spec = exportFlow({ targets: [{ name: 'ftps' }], fileNameTemplate: 'untrusted_{entity}' });
    const { report } = await exportOnce(urls, spec, { targets, secrets: servers.secrets }, { flowId: flowId() });
    expect(report.export.transfers[0]).toMatchObject({ status: 'failed', reason: 'TLSError', attempts: 1 });
    expect(namesIn(servers.ftpsRoot, 'untrusted_')).toEqual([]);
  });

  it('with one of two destinations down, the other still receives the file and the run reports a partial transfer failure', async () => {
    const down = { ...servers.targets.ftps, port: 1 };
    const spec = exportFlow({ targets: [{ name: 'sftp' }, { name: 'down' }], fileNameTemplate: 'partial_{entity}' });
    const id = flowId();
    const { report, failure } = await exportOnce(urls, spec, { targets: { ...servers.targets, down }, secrets: servers.secrets }, { flowId: id });
    expect(failure).toBeDefined();
    expect(report.status).toBe('Failed');
    expect(report.export).toMatchObject({ result: 'SomeTransfersFailed', creationStatus: 'Complete', transferStatus: 'PartiallyFailed' });
    const byTarget = Object.fromEntries(report.export.transfers.map((t) => [t.target, t]));
    expect(byTarget.sftp.status).toBe('transferred');
    expect(byTarget.down).toMatchObject({ status: 'failed', reason: 'Unreachable', attempts: 3 });
    expect(namesIn(servers.sftpRoot, 'partial_')).toEqual(['partial_members.csv']);
    const stored = await withClient(urls.stateUrl, (c) =>
      c.query(`SELECT target, status, reason, bytes, remote_path FROM ferry.export_transfers WHERE run_id = $1 ORDER BY target`, [report.runId]),
    );
    expect(stored.rows).toEqual([
      { target: 'down', status: 'failed', reason: 'Unreachable', bytes: null, remote_path: null },
      { target: 'sftp', status: 'transferred', reason: null, bytes: String(report.export.files[0].bytes), remote_path: 'partial_members.csv' },
    ]);
    const run = await withClient(urls.stateUrl, (c) => c.query(`SELECT creation_status, transfer_status FROM ferry.export_runs WHERE run_id = $1`, [report.runId]));
    expect(run.rows[0]).toEqual({ creation_status: 'Complete', transfer_status: 'PartiallyFailed' });
  });

  it('re-transfers the archived file byte for byte to chosen destinations', async () => {
    const id = flowId();
    const spec = exportFlow({ compression: 'Gzip', targets: [{ name: 'sftp' }, { name: 'ftps' }], fileNameTemplate: 'again_{entity}' });
    const context = { targets: servers.targets, secrets: servers.secrets };
    const first = await exportOnce(urls, spec, context, { flowId: id });
    expect(first.failure).toBeUndefined();
    const original = readFileSync(join(servers.ftpsRoot, 'again_members.csv.gz'));
    rmSync(join(servers.ftpsRoot, 'again_members.csv.gz'));
    // The source changes in between: a re-transfer must still send the old file.
    await withClient(urls.sourceUrl, (c) => c.query(`UPDATE members SET points = points + 1 WHERE id = 1`));

    const again = await exportOnce(urls, spec, { ...context, retransfer: { runId: first.report.runId, targets: ['ftps'] } }, { flowId: id, mode: 'Retransfer' });
    expect(again.failure).toBeUndefined();
    expect(again.report.export).toMatchObject({ result: 'AllTransferred', sourceRunId: first.report.runId });
    expect(again.report.export.transfers.map((t) => t.target)).toEqual(['ftps']);
    const resent = readFileSync(join(servers.ftpsRoot, 'again_members.csv.gz'));
    expect(sha256(resent)).toBe(sha256(original));
    expect(sha256(resent)).toBe(first.report.export.files[0].sha256);
    await withClient(urls.sourceUrl, (c) => c.query(`UPDATE members SET points = points - 1 WHERE id = 1`));
  });

  it('delivers over implicit TLS (FTPS-Implicit) too', async () => {
    const root = tempDir('ftps-implicit');
    const implicit = await startLoopbackFtps({ root, username: 'ferry', password: 'ftps-secret', implicit: true, tls: { key: servers.pki.serverKey, cert: servers.pki.serverCert } });
    try {
      const targets = { implicit: { ...servers.targets.ftps, protocol: 'FTPS-Implicit' as const, port: implicit.port } };
      const spec = exportFlow({ targets: [{ name: 'implicit' }], fileNameTemplate: 'implicit_{entity}' });
      const { report, failure } = await exportOnce(urls, spec, { targets, secrets: servers.secrets }, { flowId: flowId() });
      expect(failure).toBeUndefined();
      expect(sha256(receivedFiles(root).get('implicit_members.csv')!)).toBe(report.export.files[0].sha256);
    } finally {
      await implicit.close();
    }
  });
});
