/**
 * A files source in the cluster, from the outside: a partner's SFTP server (real sshd) with a
 * passphrase-protected client key (and a password beside it), vsftpd over FTPS with a password, and
 * PGP-encrypted, signed files decrypted with a passphrase-protected private key. With known secret
 * values, nothing the cluster shows holds one: the Jobs (Secret references only), the SyncJobs',
 * SyncFlows' and ExportTargets' status, Events, report ConfigMaps, the controller's and the Jobs'
 * logs, the report e-mails, `kubectl ferry files`, runs and report, the data API's objects and the
 * state database, also when a run fails on a wrong passphrase. A SyncJob's re-import says which file
 * it read again. A flow with hundreds of files lists a bounded page with "N more".
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as openpgp from 'openpgp';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../src/api/exporttarget.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { createTestPki } from '../../src/export/loopback/pki.js';
import { interopAvailable, startSshd, startVsftpd, type Sshd, type Vsftpd } from '../integration/export/system-servers.js';
import { startDataApiFixture, type DataApiFixture } from './fixtures/data-api.js';
import { createSecret, jobManifest, kubeconfigPath, namespaceWithStateDb, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { JobRunner } from './fixtures/job-runner.js';
import { kubectl, type KubectlResult } from './fixtures/kubectl.js';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink.js';

const ns = 'e2e-files-secrets';
const PGP_PASSPHRASE = 'Pgp-Passphrase-Known-7c1e';
const WRONG_PASSPHRASE = 'Wrong-Pgp-Passphrase-3d9a';
const SSH_KEY_PASSPHRASE = 'Ssh-Key-Passphrase-Known-52bf';
const SFTP_PASSWORD = 'Sftp-Password-Known-a04d';
const FTPS_PASSWORD = 'Ftps-Password-Known-e61c';
const FILE = 'employees-20260101.csv.gpg';
/** Past two data API pages (500 each): every file listed once (1,500 showed 555 before the store ordered by the id column). */
const BULK_FILES = 1_100;

let kube: Kube;
let stateUrl: string;
let targetUrl: string;
let controller: Controller;
let runner: JobRunner;
let dataApi: DataApiFixture;
let smtp: SmtpSink;
let sshd: Sshd;
let vsftpd: Vsftpd;
let inbox: string;
let scratch: string;
let controllerLog = '';
const runnerLog: string[] = [];
/** The secret values, and a line from the middle of each private key (a whole key is never printed as one line). */
let secrets: string[] = [];

const middle = (armored: string) => {
  const lines = armored.split('\n').filter((l) => l.length > 40);
  return lines[Math.floor(lines.length / 2)]!;
};
const kubectlFerry = (...args: string[]) => kubectl(['ferry', ...args, '-n', ns]);

function payrollFlow(name: string, pgpSecret: string, target = 'partner-sftp'): SyncFlow {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name, namespace: ns },
    spec: {
      direction: 'OneWay',
      source: {
        files: {
          exportTargetRef: { name: target },
          settleSeconds: 0,
          decryption: { secretRef: { name: pgpSecret }, verify: { secretRef: { name: 'partner-signing-key' }, required: true } },
        },
      },
      target: { postgres: { secretRef: { name: 'target-db' } } },
      entities: [
        {
          name: 'employees',
          source: { table: 'employees', keys: ['no'], file: { pattern: 'employees-*.csv.gpg', contents: 'Snapshot', csv: { delimiter: ';' } } },
          target: { table: 'staff', keys: ['id'] },
          fields: [
            { source: 'no', target: 'employee_no' },
            { source: 'name', target: 'name' },
          ],
          match: [{ source: 'no', target: 'employee_no' }],
          actions: ['link', 'createInTarget', 'updateTarget'],
        },
      ],
      notifications: { adminEmails: ['admin@example.org'], smtpSecretRef: { name: 'smtp' } },
    } as SyncFlow['spec'],
  };
}

async function finished(name: string): Promise<SyncJob> {
  return waitForPhase(kube, ns, name, ['Succeeded', 'Failed'], 150_000);
}

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_files_secrets_state'));
  targetUrl = await freshDatabase('e2e_files_secrets_dst');
  await withClient(targetUrl, (c) => c.query('CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text); CREATE TABLE bulk (id bigserial PRIMARY KEY, no text UNIQUE NOT NULL, name text)'));
  scratch = mkdtempSync(join(tmpdir(), 'ferry-e2e-files-secrets-'));
  inbox = mkdtempSync(join(tmpdir(), 'ferry-e2e-bulk-inbox-'));
  smtp = await startSmtpSink();
  dataApi = await startDataApiFixture(kube, kubeconfigPath(), stateUrl);
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      controllerLog += chunk.toString();
      done();
    },
  });
  controller = await startController(ns, stateUrl, { logger: pino({ level: 'debug' }, logStream) });
  runner = new JobRunner({ kubeconfigPath: kubeconfigPath(), namespace: ns, log: (line) => runnerLog.push(line) });
  await runner.start();
  await createSecret(kube, ns, 'target-db', { url: targetUrl });
  await createSecret(kube, ns, 'smtp', { host: '127.0.0.1', port: String(smtp.port), from: 'ferry@example.org' });
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
  await dataApi?.stop();
  await smtp?.close();
  await sshd?.close();
  await vsftpd?.close();
  for (const dir of [scratch, inbox]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!interopAvailable)('a files source over SFTP with PGP: no secret in any output', () => {
  let pgpPrivateKey: string;
  let sshPrivateKey: string;

  beforeAll(async () => {
    sshd = await startSshd();
    // The client key, protected by a passphrase, as many partners hand it out.
    const keyPath = join(scratch, 'client_key');
    writeFileSync(keyPath, sshd.clientPrivateKey);
    chmodSync(keyPath, 0o600);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', SSH_KEY_PASSPHRASE, '-f', keyPath]);
    sshPrivateKey = readFileSync(keyPath, 'utf8');
    const ours = await openpgp.generateKey({ userIDs: [{ name: 'Ferry', email: 'ferry@example.org' }], passphrase: PGP_PASSPHRASE, format: 'armored' });
    const partner = await openpgp.generateKey({ userIDs: [{ name: 'Payroll', email: 'payroll@example.org' }], format: 'armored' });
    pgpPrivateKey = ours.privateKey;
    secrets = [PGP_PASSPHRASE, WRONG_PASSPHRASE, SSH_KEY_PASSPHRASE, SFTP_PASSWORD, FTPS_PASSWORD, middle(pgpPrivateKey), middle(sshPrivateKey), middle(partner.privateKey)];

    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from('no;name\n1;Ann\n2;Ben\n') }),
      encryptionKeys: await openpgp.readKey({ armoredKey: ours.publicKey }),
      signingKeys: await openpgp.readPrivateKey({ armoredKey: partner.privateKey }),
      format: 'binary',
    });
    writeFileSync(join(sshd.uploadDir, FILE), encrypted as Uint8Array);
    // vsftpd (explicit TLS) lets anonymous in whatever the password: the one given must stay unseen too.
    const pki = createTestPki(mkdtempSync(join(scratch, 'pki-')));
    vsftpd = await startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath });
    writeFileSync(join(vsftpd.uploadDir, FILE), encrypted as Uint8Array);
    await createSecret(kube, ns, 'partner-ftps-creds', { username: 'anonymous', password: FTPS_PASSWORD });
    await createSecret(kube, ns, 'partner-ftps-ca', { 'ca.crt': pki.caCert });

    await createSecret(kube, ns, 'partner-sftp-creds', { username: sshd.user, privateKey: sshPrivateKey, passphrase: SSH_KEY_PASSPHRASE, password: SFTP_PASSWORD });
    await createSecret(kube, ns, 'partner-pgp', { privateKey: pgpPrivateKey, passphrase: PGP_PASSPHRASE });
    await createSecret(kube, ns, 'partner-pgp-wrong', { privateKey: pgpPrivateKey, passphrase: WRONG_PASSPHRASE });
    await createSecret(kube, ns, 'partner-signing-key', { publicKey: partner.publicKey });
    await kube.create<ExportTarget>('ExportTarget', {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'partner-sftp', namespace: ns },
      spec: {
        protocol: 'SFTP',
        host: '127.0.0.1',
        port: sshd.port,
        directory: sshd.uploadDir,
        credentialsSecretRef: { name: 'partner-sftp-creds' },
        sftp: { hostKey: sshd.hostKey },
        access: 'ReadOnly',
        probeIntervalSeconds: 10,
      },
    });
    await kube.create<ExportTarget>('ExportTarget', {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'partner-ftps', namespace: ns },
      spec: {
        protocol: 'FTPS',
        host: '127.0.0.1',
        port: vsftpd.port,
        directory: vsftpd.directory,
        credentialsSecretRef: { name: 'partner-ftps-creds' },
        ftps: { caSecretRef: { name: 'partner-ftps-ca' } },
        access: 'ReadOnly',
        probeIntervalSeconds: 10,
      },
    });
    await kube.create('SyncFlow', payrollFlow('payroll', 'partner-pgp'));
    await kube.create('SyncFlow', payrollFlow('payroll-ftps', 'partner-pgp', 'partner-ftps'));
    await kube.create('SyncFlow', payrollFlow('payroll-wrong-key', 'partner-pgp-wrong'));
  }, 120_000);

  it('imports, re-imports on request (the SyncJob says which file), and fails on a wrong passphrase without printing it', async () => {
    await kube.create('SyncJob', jobManifest(ns, 'payroll-1', 'payroll', { mode: 'Incremental' }));
    const first = await finished('payroll-1');
    expect(first.status?.phase, first.status?.message).toBe('Succeeded');
    expect(await withClient(targetUrl, async (c) => (await c.query('SELECT employee_no, name FROM staff ORDER BY employee_no')).rows.map((r) => [r.employee_no, r.name]))).toEqual([
      ['1', 'Ann'],
      ['2', 'Ben'],
    ]);

    await kube.create('SyncJob', jobManifest(ns, 'payroll-again', 'payroll', { mode: 'Incremental', reimport: [FILE] }));
    const again = await finished('payroll-again');
    expect(again.status?.phase, again.status?.message).toBe('Succeeded');
    expect(again.status?.message).toContain(`re-imported on request: ${FILE}`);
    expect(again.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(`re-imported on request: ${FILE}`);
    const report = await waitFor('report of payroll-again', async () => {
      const job = await kube.get<SyncJob>('SyncJob', ns, 'payroll-again');
      return job.status?.reportRef?.configMap ? kube.core.readNamespacedConfigMap({ namespace: ns, name: job.status.reportRef.configMap }) : undefined;
    });
    expect((JSON.parse(report.data!['report.json']!) as { notes?: string[] }).notes).toContain(`re-imported on request: ${FILE}`);

    // The plugin asks the same: a name without a directory, through spec.reimport.
    const refused = await kubectlFerry('sync', 'payroll', '--reimport', `processed/${FILE}`);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`--reimport "processed/${FILE}": a file name, without a directory`);
    const viaPlugin = await kubectlFerry('sync', 'payroll', '--reimport', FILE, '--wait', '--timeout', '150s');
    expect(viaPlugin.status, viaPlugin.stderr).toBe(0);
    expect(viaPlugin.stdout).toContain(`re-imported on request: ${FILE}`);

    await kube.create('SyncJob', jobManifest(ns, 'payroll-ftps-1', 'payroll-ftps', { mode: 'Incremental' }));
    const overFtps = await finished('payroll-ftps-1');
    expect(overFtps.status?.phase, overFtps.status?.message).toBe('Succeeded');

    await kube.create('SyncJob', jobManifest(ns, 'payroll-wrong-key-1', 'payroll-wrong-key', { mode: 'Incremental' }));
    const wrong = await finished('payroll-wrong-key-1');
    expect(wrong.status?.phase).toBe('Failed');

    // Both flows' report e-mails have gone out (the failed run's too).
    await waitFor('five report e-mails', async () => smtp.messages.length >= 5 || undefined, 60_000);
  }, 400_000);

  it('no secret value in the Jobs, objects, Events, reports, logs, e-mails, plugin output, data API or state database', async () => {
    const outputs: Record<string, string> = {};
    const jobs = await kube.batch.listNamespacedJob({ namespace: ns });
    expect(jobs.items.length).toBeGreaterThanOrEqual(5);
    outputs.jobs = JSON.stringify(jobs.items);
    // Secret references only: every env value from a Secret is a secretKeyRef, every Secret a volume.
    for (const job of jobs.items) {
      for (const env of job.spec!.template.spec!.containers[0]!.env ?? []) if (env.value !== undefined) expect(env.name).not.toMatch(/PASS|KEY|PASSWORD/i);
    }
    for (const kind of ['SyncJob', 'SyncFlow', 'ExportTarget'] as const) outputs[kind] = JSON.stringify((await kube.list(kind, ns)).items);
    outputs.events = JSON.stringify((await kube.core.listNamespacedEvent({ namespace: ns })).items);
    outputs.configMaps = JSON.stringify((await kube.core.listNamespacedConfigMap({ namespace: ns })).items);
    outputs.controllerLog = controllerLog;
    outputs.jobLogs = runner.finished.map((f) => f.output).join('\n') + runnerLog.join('\n');
    outputs.mails = smtp.messages.map((m) => m.raw).join('\n');
    const plugin: KubectlResult[] = [
      await kubectlFerry('files', 'payroll'),
      await kubectlFerry('files', 'payroll', '-o', 'json'),
      await kubectlFerry('files', 'payroll-wrong-key', '-o', 'yaml'),
      await kubectlFerry('files', 'payroll-ftps'),
      await kubectlFerry('report', 'payroll-ftps-1'),
      await kubectlFerry('runs', 'payroll'),
      await kubectlFerry('runs', 'payroll-wrong-key'),
      await kubectlFerry('report', 'payroll-again'),
      await kubectlFerry('report', 'payroll-wrong-key-1'),
      await kubectl(['get', 'sourcefiles', '-n', ns, '-o', 'json']),
      await kubectl(['get', 'runs.data.ferry.dev', '-n', ns, '-o', 'json']),
    ];
    expect(plugin[0]!.status, plugin[0]!.stderr).toBe(0);
    outputs.plugin = plugin.map((p) => p.stdout + p.stderr).join('\n');
    outputs.state = await withClient(stateUrl, async (c) => {
      const runs = await c.query(`SELECT coalesce(error, '') || coalesce(report::text, '') AS text FROM ferry.runs`);
      const files = await c.query(`SELECT coalesce(reason, '') || name || path AS text FROM ferry.source_files`);
      return [...runs.rows, ...files.rows].map((r) => r.text).join('\n');
    });
    // What was looked at holds what it should: the failed run's reason, the e-mails, the log.
    expect(outputs.SyncJob).toMatch(/payroll-wrong-key-1/);
    expect(outputs.controllerLog).toMatch(/"level"/);
    expect(outputs.jobLogs).toMatch(/employees/);
    for (const [where, text] of Object.entries(outputs)) for (const secret of secrets) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
  }, 120_000);
});

describe('a flow with thousands of files', () => {
  it('kubectl ferry files prints the newest per entity with the number left out, and the counts of all', async () => {
    for (let i = 1; i <= BULK_FILES; i++) writeFileSync(join(inbox, `bulk-${String(i).padStart(5, '0')}.csv`), `no;name\n1;v${i}\n`);
    const flow: SyncFlow = {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncFlow',
      metadata: { name: 'bulk', namespace: ns },
      spec: {
        direction: 'OneWay',
        source: { files: { directory: inbox, volumeClaim: { name: 'bulk-inbox' }, settleSeconds: 0 } },
        target: { postgres: { secretRef: { name: 'target-db' } } },
        entities: [
          {
            name: 'bulk',
            source: { table: 'bulk', keys: ['no'], file: { pattern: 'bulk-*.csv', contents: 'Snapshot', csv: { delimiter: ';' } } },
            target: { table: 'bulk', keys: ['id'] },
            fields: [
              { source: 'no', target: 'no' },
              { source: 'name', target: 'name' },
            ],
            match: [{ source: 'no', target: 'no' }],
          },
        ],
      } as SyncFlow['spec'],
    };
    await kube.create('SyncFlow', flow);
    await kube.create('SyncJob', jobManifest(ns, 'bulk-1', 'bulk', { mode: 'Full' }));
    const job = await finished('bulk-1');
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(await withClient(targetUrl, async (c) => (await c.query('SELECT name FROM bulk')).rows.map((r) => r.name))).toEqual([`v${BULK_FILES}`]);
    // The SyncJob's status is bounded whatever the number of files.
    expect(JSON.stringify(job.status).length).toBeLessThan(4096);

    const table = await kubectlFerry('files', 'bulk');
    expect(table.status, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines.length).toBeLessThan(200);
    expect(table.stdout).toContain(`bulk-${String(BULK_FILES).padStart(5, '0')}.csv`);
    expect(table.stdout).not.toContain('bulk-00001.csv');
    expect(table.stdout).toMatch(new RegExp(`bulk: ${BULK_FILES - 50} more, older files not shown`));
    expect(table.stdout).toContain(`imported: ${BULK_FILES}`);

    const json = await kubectlFerry('files', 'bulk', '-o', 'json', '--limit', '5');
    expect(json.status, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout) as { files: { name: string }[]; more: Record<string, number>; counts: Record<string, number> };
    expect(body.files).toHaveLength(5);
    expect(body.more).toEqual({ bulk: BULK_FILES - 5 });
    expect(body.counts).toEqual({ imported: BULK_FILES });
  }, 300_000);
});
