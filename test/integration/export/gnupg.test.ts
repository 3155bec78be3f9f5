import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, receivedFiles, startDestinations, tempDir, type Destinations } from './fixtures.js';

/** GnuPG with a throwaway home: generates the recipient and signer keys Ferry is given. */
function gnupg() {
  const home = tempDir('gnupg');
  const gpg = (args: string[], input?: string) =>
    execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  gpg(['--quick-gen-key', 'Export Recipient <recipient@example.org>', 'future-default', 'default', 'never']);
  gpg(['--quick-gen-key', 'Ferry Signer <ferry@example.org>', 'future-default', 'sign', 'never']);
  return {
    home,
    gpg,
    recipientPublicKey: gpg(['--armor', '--export', 'recipient@example.org']).toString(),
    signerPrivateKey: gpg(['--armor', '--export-secret-keys', 'ferry@example.org']).toString(),
  };
}

describe('OpenPGP encryption interoperates with GnuPG', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };
  let keys: ReturnType<typeof gnupg>;

  beforeAll(async () => {
    keys = gnupg();
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) =>
      c.query(`INSERT INTO members SELECT g, 'Member ' || g, 'm' || g || '@example.org', g * 3, '2026-02-01 08:00:00+00' FROM generate_series(1, 2000) g`),
    );
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('gpg decrypts the gzip+PGP file to the expected CSV and verifies our signature', async () => {
    const spec = exportFlow({
      compression: 'Gzip',
      encryption: { recipients: [{ secretRef: { name: 'recipient' } }], signWith: { secretRef: { name: 'signer' } } },
      fileNameTemplate: 'members',
    });
    const secrets = { ...servers.secrets, recipient: { publicKey: keys.recipientPublicKey }, signer: { privateKey: keys.signerPrivateKey } };
    const { report, failure } = await exportOnce(urls, spec, { targets: servers.targets, secrets });
    expect(failure).toBeUndefined();
    expect(report.export.files[0].name).toBe('members.csv.gz.pgp');

    const encrypted = receivedFiles(servers.sftpRoot).get('members.csv.gz.pgp')!;
    const path = join(keys.home, 'received.pgp');
    writeFileSync(path, encrypted);
    const status = join(keys.home, 'status.txt');
    const decrypted = keys.gpg(['--status-file', status, '--decrypt', path]);
    const statusText = execFileSync('cat', [status]).toString();
    expect(statusText).toMatch(/\[GNUPG:\] GOODSIG [0-9A-F]+ Ferry Signer <ferry@example.org>/);
    expect(statusText).toMatch(/\[GNUPG:\] DECRYPTION_OKAY/);

    const csv = gunzipSync(decrypted).toString('utf8');
    const expected = ['member_id,name,email,points', ...Array.from({ length: 2000 }, (_, i) => `${i + 1},Member ${i + 1},m${i + 1}@example.org,${(i + 1) * 3}`)];
    expect(csv).toBe(expected.join('\r\n') + '\r\n');
  });

  it('encrypts a zip for several recipients without signing; unzip reads the decrypted archive', async () => {
    const second = tempDir('gnupg2');
    execFileSync('gpg', ['--homedir', second, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Second <second@example.org>', 'future-default', 'default', 'never'], { stdio: 'pipe' });
    const secondKey = execFileSync('gpg', ['--homedir', second, '--armor', '--export', 'second@example.org']).toString();
    const spec = exportFlow({
      compression: 'Zip',
      encryption: { recipients: [{ secretRef: { name: 'recipient' } }, { secretRef: { name: 'second', key: 'key.asc' } }] },
      fileNameTemplate: 'members_zip',
    });
    const secrets = { ...servers.secrets, recipient: { publicKey: keys.recipientPublicKey }, second: { 'key.asc': secondKey } };
    const { failure } = await exportOnce(urls, spec, { targets: servers.targets, secrets }, { flowId: 'default/zip' });
    expect(failure).toBeUndefined();
    const path = join(second, 'received.zip.pgp');
    writeFileSync(path, receivedFiles(servers.sftpRoot).get('members_zip.csv.zip.pgp')!);
    // The second recipient decrypts with its own key.
    const zip = execFileSync('gpg', ['--homedir', second, '--batch', '--decrypt', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(join(second, 'received.zip'), zip);
    const listing = execFileSync('unzip', ['-l', join(second, 'received.zip')]).toString();
    expect(listing).toContain('members_zip.csv');
    const csv = execFileSync('unzip', ['-p', join(second, 'received.zip'), 'members_zip.csv']).toString();
    expect(csv.split('\r\n')[2000]).toBe('2000,Member 2000,m2000@example.org,6000');
  });

  it('signs with a passphrase-protected key from the Secret; without the passphrase, creation fails naming the field', async () => {
    const lockedGpg = ['--homedir', keys.home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', 'secret-pass'];
    execFileSync('gpg', [...lockedGpg, '--quick-gen-key', 'Locked Signer <locked@example.org>', 'future-default', 'sign', 'never'], { stdio: 'pipe' });
    const locked = execFileSync('gpg', [...lockedGpg, '--armor', '--export-secret-keys', 'locked@example.org']).toString();
    const spec = exportFlow({
      compression: 'None',
      encryption: { recipients: [{ secretRef: { name: 'recipient' } }], signWith: { secretRef: { name: 'locked' } } },
      fileNameTemplate: 'locked_members',
    });
    const base = { ...servers.secrets, recipient: { publicKey: keys.recipientPublicKey } };
    const without = await exportOnce(urls, spec, { targets: servers.targets, secrets: { ...base, locked: { privateKey: locked } } }, { flowId: 'default/locked' });
    expect(without.report.export.result).toBe('CreationFailed');
    expect(String(without.failure)).toMatch(/signWith.secretRef: the key is protected; add its "passphrase"/);

    const signed = await exportOnce(urls, spec, { targets: servers.targets, secrets: { ...base, locked: { privateKey: locked, passphrase: 'secret-pass' } } }, { flowId: 'default/locked' });
    expect(signed.failure).toBeUndefined();
    const path = join(keys.home, 'locked.pgp');
    writeFileSync(path, receivedFiles(servers.sftpRoot).get('locked_members.csv.pgp')!);
    const status = join(keys.home, 'locked-status.txt');
    keys.gpg(['--status-file', status, '--decrypt', path]);
    expect(execFileSync('cat', [status]).toString()).toMatch(/GOODSIG [0-9A-F]+ Locked Signer <locked@example.org>/);
  });
});
