import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { ferry, type ProcessOutput } from '../../helpers/ferry-process.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { tempDir } from '../export/fixtures.js';
import { interopAvailable, startSshd, type Sshd } from '../export/system-servers.js';

const EXAMPLE = join(import.meta.dirname, '../../../examples/payroll-import');
const PASSPHRASE = 'payroll import passphrase 7f3a';
const OURS = 'payroll-import@cleanmanager.example';
const PROVIDER = 'sftp@payroll.example.com';
const STRANGER = 'mallory@example.net';

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, any>;
  stringData?: Record<string, string>;
}

/** The example's documents, file by file, as parsed from its YAML. */
function exampleDocuments(): Map<string, Manifest[]> {
  const files = readdirSync(EXAMPLE).filter((name) => name.endsWith('.yaml'));
  return new Map(files.map((name) => [name, parseAllDocuments(readFileSync(join(EXAMPLE, name), 'utf8')).map((d) => d.toJS() as Manifest)]));
}

function find(documents: Map<string, Manifest[]>, kind: string, name: string): Manifest {
  const found = [...documents.values()].flat().find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`examples/payroll-import has no ${kind} ${name}`);
  return found;
}

/** Replaces a value the example already has (a key it lacks is a mistake of the example or of this test). */
function replace(on: Record<string, any>, key: string, value: unknown): void {
  if (!(key in on)) throw new Error(`examples/payroll-import: expected "${key}" in ${JSON.stringify(on)}`);
  on[key] = value;
}

/** A GnuPG home of its own, as each party (we, the payroll provider, a stranger) has. */
function gnupg(name: string, email: string, passphrase = '') {
  const home = tempDir(`gnupg-${name}`);
  const gpg = (args: string[], input?: string | Buffer) =>
    execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', passphrase, ...args], {
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  gpg(['--quick-gen-key', `${name} <${email}>`, 'future-default', 'default', 'never']);
  return {
    home,
    publicKey: gpg(['--armor', '--export', email]).toString(),
    privateKey: () => gpg(['--armor', '--export-secret-keys', email]).toString(),
    import: (armored: string) => gpg(['--import'], armored),
    /** `gpg --encrypt --sign`, to `recipient`, signed with this party's key: binary OpenPGP, as the provider sends. */
    encryptSign: (bytes: Buffer, recipient: string) => gpg(['--trust-model', 'always', '--encrypt', '--sign', '-u', email, '-r', recipient, '--output', '-'], bytes),
    close: () => execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' }),
  };
}

/** The target table the README documents (CleanManager's employees). */
function readmeTableSql(): string {
  const readme = readFileSync(join(EXAMPLE, 'README.md'), 'utf8');
  const sql = /```sql\n(CREATE TABLE employees[\s\S]*?)```/.exec(readme);
  if (!sql) throw new Error('examples/payroll-import/README.md documents no CREATE TABLE employees');
  return sql[1]!;
}

/** The header line the README documents for the provider's file. */
function readmeHeader(): string {
  const readme = readFileSync(join(EXAMPLE, 'README.md'), 'utf8');
  const header = /```text\n(personnel_no;[^\n]*)\n/.exec(readme);
  if (!header) throw new Error('examples/payroll-import/README.md documents no header line');
  return header[1]!;
}

type Person = [no: number, first: string, last: string, email: string, rate: string, start: string];
const ZOE: Person = [1001, 'Zoë', 'Šimková', 'Zoe.Simkova@CleanManager.example', '18,50', '01.03.2019'];
const JOSE: Person = [1002, 'José', 'Muñoz-Dürr', 'Jose.Munoz@cleanmanager.example', '21,75', '15.11.2021'];
const FRANCOISE: Person = [1003, 'Françoise', 'Lœwe', 'F.Loewe@CLEANMANAGER.example', '19', '31.12.2023'];

/** The provider's file as the README describes it: CSV with `;`, Windows-1252, CRLF, decimal commas, DD.MM.YYYY, then gzip. */
function payrollCsv(people: Person[]): Buffer {
  const text = [readmeHeader(), ...people.map((p) => p.join(';'))].join('\r\n') + '\r\n';
  return gzipSync(iconv.encode(text, 'win1252'));
}

/**
 * examples/payroll-import run as written, through the real CLI: the provider's file on OpenSSH's sshd
 * (internal-sftp, host key pinned by its SHA256 fingerprint), gzip and `gpg --encrypt --sign` by real
 * GnuPG, into a PostgreSQL employees table made by the README's DDL. Only what differs per machine is
 * replaced in the example's documents: server, directory, credentials, keys and the database URL.
 */
describe.skipIf(!interopAvailable)('examples/payroll-import as written (real sshd, GnuPG, PostgreSQL, ferry run)', () => {
  let sshd: Sshd;
  let outbox: string;
  let manifests: string;
  let targetUrl: string;
  let stateUrl: string;
  let ours: ReturnType<typeof gnupg>;
  let provider: ReturnType<typeof gnupg>;
  let stranger: ReturnType<typeof gnupg>;
  let secrets: string[];
  const outputs: ProcessOutput[] = [];

  /** `ferry run` in a mode of the example's schedules, its JSON report parsed. */
  async function run(mode: 'Incremental' | 'Full') {
    const out = await ferry(['run', '-f', manifests, '--state-db', stateUrl, '--mode', mode, '-o', 'json']);
    outputs.push(out);
    return out;
  }
  const report = (out: ProcessOutput) => {
    expect(out.code, out.stderr).toBe(0);
    const reports = JSON.parse(out.stdout);
    return (Array.isArray(reports) ? reports[0] : reports) as { mode: string; totals: Record<string, number> };
  };
  const upload = (name: string, bytes: Buffer) => writeFileSync(join(outbox, name), bytes);
  const employees = () =>
    sqlRows(targetUrl, 'SELECT personnel_no, first_name, last_name, email, hourly_rate::text AS hourly_rate, start_date::text AS start_date FROM employees ORDER BY personnel_no');
  const row = ([no, first, last, email, rate, start]: Person) => ({
    personnel_no: no,
    first_name: first,
    last_name: last,
    email: email.toLowerCase(),
    hourly_rate: Number(rate.replace(',', '.')).toFixed(2),
    start_date: start.split('.').reverse().join('-'),
  });

  beforeAll(async () => {
    [sshd, targetUrl, stateUrl] = await Promise.all([startSshd(), freshDatabase('payroll_example_cm'), freshDatabase('payroll_example_state')]);
    ours = gnupg('CleanManager', OURS, PASSPHRASE);
    provider = gnupg('Payroll', PROVIDER);
    stranger = gnupg('Mallory', STRANGER);
    provider.import(ours.publicKey);
    stranger.import(ours.publicKey);
    const ourPrivateKey = ours.privateKey();

    outbox = join(sshd.uploadDir, 'outbox', 'cleanmanager');
    mkdirSync(outbox, { recursive: true });
    const hostKeyFile = join(tempDir('payroll-hostkey'), 'host_key.pub');
    writeFileSync(hostKeyFile, `${sshd.hostKey}\n`);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', hostKeyFile], { encoding: 'utf8' }).split(' ')[1]!;
    expect(fingerprint).toMatch(/^SHA256:/);

    const documents = exampleDocuments();
    const target = find(documents, 'ExportTarget', 'payroll-sftp').spec!;
    replace(target, 'host', '127.0.0.1');
    target.port = sshd.port;
    replace(target, 'directory', outbox);
    replace(target.sftp, 'hostKeyFingerprint', fingerprint);
    const sftpCredentials = find(documents, 'Secret', 'payroll-sftp-credentials').stringData!;
    replace(sftpCredentials, 'username', sshd.user);
    replace(sftpCredentials, 'privateKey', sshd.clientPrivateKey);
    const pgp = find(documents, 'Secret', 'payroll-pgp').stringData!;
    replace(pgp, 'privateKey', ourPrivateKey);
    replace(pgp, 'passphrase', PASSPHRASE);
    replace(find(documents, 'Secret', 'payroll-signing-key').stringData!, 'publicKey', provider.publicKey);
    replace(find(documents, 'Secret', 'cleanmanager-db').stringData!, 'url', targetUrl);

    manifests = tempDir('payroll-example');
    for (const [name, docs] of documents) writeFileSync(join(manifests, name), docs.map((d) => stringify(d)).join('---\n'));
    await withClient(targetUrl, (c) => c.query(readmeTableSql()));

    // What must never be printed: a line from the middle of each private key, the passphrase.
    const middle = (armored: string) => armored.trim().split('\n').slice(-4, -3)[0]!;
    secrets = [middle(ourPrivateKey), middle(sshd.clientPrivateKey), PASSPHRASE];
  }, 60_000);

  afterAll(async () => {
    for (const party of [ours, provider, stranger]) party?.close();
    await sshd?.close();
  });

  it('the daytime Incremental run imports the new file into employees (accents, decimal commas, dates) and moves it to processed/', async () => {
    upload('employees-20261102.csv.gz.pgp', provider.encryptSign(payrollCsv([ZOE, JOSE, FRANCOISE]), OURS));
    const first = report(await run('Incremental'));
    expect(first.totals).toMatchObject({ read: 3, created: 3, rejected: 0 });
    expect(await employees()).toEqual([row(ZOE), row(JOSE), row(FRANCOISE)]);
    expect(await employees()).toContainEqual(expect.objectContaining({ first_name: 'Françoise', last_name: 'Lœwe', hourly_rate: '19.00', start_date: '2023-12-31' }));
    expect(readdirSync(outbox).sort()).toEqual(['processed']);
    expect(readdirSync(join(outbox, 'processed'))).toEqual(['employees-20261102.csv.gz.pgp']);

    // Later that day, no new file: nothing is imported.
    const again = report(await run('Incremental'));
    expect(again.totals).toMatchObject({ read: 0, created: 0, updated: 0, deleted: 0 });
    expect(await employees()).toEqual([row(ZOE), row(JOSE), row(FRANCOISE)]);
  }, 60_000);

  it('the nightly Full run with the next file, José gone and Zoë’s rate raised, deletes him and updates her', async () => {
    const raised: Person = [...ZOE];
    raised[4] = '19,25';
    upload('employees-20261103.csv.gz.pgp', provider.encryptSign(payrollCsv([raised, FRANCOISE]), OURS));
    const nightly = report(await run('Full'));
    expect(nightly.mode).toBe('Full');
    expect(nightly.totals).toMatchObject({ read: 2, updated: 1, deleted: 1, rejected: 0 });
    expect(await employees()).toEqual([row(raised), row(FRANCOISE)]);
    expect(readdirSync(join(outbox, 'processed')).sort()).toEqual(['employees-20261102.csv.gz.pgp', 'employees-20261103.csv.gz.pgp']);
  }, 60_000);

  it('a file signed by another key is refused with one line naming it, moved to failed/ with its reason, and nothing applied', async () => {
    const name = 'employees-20261104.csv.gz.pgp';
    const before = await employees();
    upload(name, stranger.encryptSign(payrollCsv([ZOE]), OURS));
    const out = await run('Incremental');
    expect(out.code).not.toBe(0);
    const lines = out.stderr.split('\n').filter((line) => line.includes(name));
    expect(lines, out.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot be imported: signature required: no valid signature by the pinned key.*nothing from it was applied/);
    expect(existsSync(join(outbox, name))).toBe(false);
    expect(existsSync(join(outbox, 'failed', name))).toBe(true);
    expect(readFileSync(join(outbox, 'failed', `${name}.reason.txt`), 'utf8')).toMatch(/^signature required: no valid signature by the pinned key/);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'Failed', totals: { read: 0, created: 0, updated: 0, deleted: 0 } });
    expect(await employees()).toEqual(before);
  }, 60_000);

  it('no secret (private keys, passphrase) appears in any output of the CLI', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const out of outputs) for (const secret of secrets) expect(out.stdout + out.stderr).not.toContain(secret);
  });
});
