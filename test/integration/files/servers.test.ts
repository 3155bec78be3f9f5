import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import { runSync } from '../../../src/connectors/run.js';
import { createTestPki } from '../../../src/export/loopback/pki.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { tempDir } from '../export/fixtures.js';
import { interopAvailable, startSshd, startVsftpd, type Sshd, type Vsftpd } from '../export/system-servers.js';
import { DECRYPTION, encryptFor, filesFlowSpec, gpgEncrypt, pgpKeys, SECRETS, TARGET_SQL, win1252Gzip, type PgpKeys } from './files-source.js';

const logger = pino({ level: 'silent' });
const CSV = ['no;name;note;salary;born', '1;Zoë;"a;b";10,5;01.01.1990', '2;José;;20;02.02.1991'].join('\r\n');


describe.skipIf(!interopAvailable)('files source over OpenSSH sshd (internal-sftp) and vsftpd (explicit TLS)', () => {
  let keys: PgpKeys;
  let sshd: Sshd;
  let vsftpd: Vsftpd;
  let targets: Record<string, ExportTargetSpec>;
  let secrets: Record<string, Record<string, string>>;

  beforeAll(async () => {
    const pki = createTestPki(tempDir('files-pki'));
    [keys, sshd, vsftpd] = await Promise.all([pgpKeys(), startSshd(), startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath })]);
    targets = {
      sshd: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } },
      vsftpd: { protocol: 'FTPS', host: '127.0.0.1', port: vsftpd.port, directory: vsftpd.directory, credentialsSecretRef: { name: 'ftp-creds' }, ftps: { caSecretRef: { name: 'ca' } } },
    };
    secrets = {
      ...SECRETS(keys),
      'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey },
      'ftp-creds': { username: 'anonymous', password: 'ferry@example.org' },
      ca: { 'ca.crt': pki.caCert },
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sshd?.close(), vsftpd?.close()]);
  });

  async function importFrom(target: string, dir: string, bytes: Buffer | Uint8Array) {
    // The test vsftpd lets anonymous users write but not make directories: processed/ exists, as on a partner's server.
    mkdirSync(join(dir, 'in', 'processed'), { recursive: true });
    chmodSync(join(dir, 'in'), 0o777);
    chmodSync(join(dir, 'in', 'processed'), 0o777);
    writeFileSync(join(dir, 'in', 'employees-20261101.csv.gz.pgp'), bytes);
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_dst'), freshDatabase('files_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    const run = () =>
      runSync({
        flowId: `test/${target}`,
        spec: filesFlowSpec({ exportTargetRef: { name: target }, subdirectory: 'in', decryption: DECRYPTION, settleSeconds: 1, afterImport: 'Move' }),
        mode: 'Incremental',
        sourceUrl: '',
        targetUrl,
        stateUrl,
        logger,
        files: { targets, secrets },
      });
    const first = await run();
    const rows = await sqlRows(targetUrl, 'SELECT employee_no, name, note, salary::text, born::text FROM staff ORDER BY employee_no');
    const again = await run();
    return { first, rows, again };
  }

  it('imports a GnuPG-encrypted and signed file over SFTP with the pinned host key, once', async () => {
    const { first, rows, again } = await importFrom('sshd', sshd.uploadDir, gpgEncrypt(keys, win1252Gzip(CSV)));
    expect(first.totals.created).toBe(2);
    expect(rows).toEqual([
      { employee_no: '1', name: 'Zoë', note: 'a;b', salary: '10.50', born: '1990-01-01' },
      { employee_no: '2', name: 'José', note: null, salary: '20.00', born: '1991-02-02' },
    ]);
    expect(again.totals.read).toBe(0);
    expect(existsSync(join(sshd.uploadDir, 'in', 'processed', 'employees-20261101.csv.gz.pgp'))).toBe(true);
  }, 120_000);

  it('imports over FTPS (explicit TLS, CA bundle) and moves the file to processed/', async () => {
    const { first, again } = await importFrom('vsftpd', vsftpd.uploadDir, Buffer.from(await encryptFor(keys, win1252Gzip(CSV))));
    expect(first.totals.created).toBe(2);
    expect(again.totals.read).toBe(0);
    expect(existsSync(join(vsftpd.uploadDir, 'in', 'processed', 'employees-20261101.csv.gz.pgp'))).toBe(true);
  }, 120_000);

  it('a refused file goes to failed/ with NAME.reason.txt on the server, over SFTP and over FTPS', async () => {
    const name = 'employees-20261102.csv.gz.pgp';
    const bad = Buffer.from(await encryptFor(keys, win1252Gzip(CSV), 'stranger'));
    for (const [target, dir] of [
      ['sshd', sshd.uploadDir],
      ['vsftpd', vsftpd.uploadDir],
    ] as const) {
      // As for processed/ above: the test vsftpd cannot make directories, so failed/ exists.
      mkdirSync(join(dir, 'in', 'failed'), { recursive: true });
      chmodSync(join(dir, 'in'), 0o777);
      chmodSync(join(dir, 'in', 'failed'), 0o777);
      writeFileSync(join(dir, 'in', name), bad);
      const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_dst'), freshDatabase('files_state')]);
      await withClient(targetUrl, (c) => c.query(TARGET_SQL));
      const failure = await runSync({
        flowId: `test/${target}-failed`,
        spec: filesFlowSpec({ exportTargetRef: { name: target }, subdirectory: 'in', decryption: DECRYPTION, settleSeconds: 0, failedDirectory: 'failed' }),
        mode: 'Incremental',
        sourceUrl: '',
        targetUrl,
        stateUrl,
        logger,
        files: { targets, secrets },
      }).catch((error: unknown) => error);
      expect(String(failure)).toMatch(/cannot be imported: signature required/);
      expect(existsSync(join(dir, 'in', name)), target).toBe(false);
      expect(existsSync(join(dir, 'in', 'failed', name)), target).toBe(true);
      expect(readFileSync(join(dir, 'in', 'failed', `${name}.reason.txt`), 'utf8'), target).toMatch(/^signature required: no valid signature by the pinned key/);
      expect(readdirSync(join(dir, 'in', 'failed')).filter((n) => n.endsWith('.part')), target).toEqual([]);
    }
  }, 120_000);
});
