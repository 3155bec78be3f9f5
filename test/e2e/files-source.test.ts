/**
 * A files source in the cluster: SyncJobs import partner files from a directory (the PVC the Job
 * mounts; the job runner's process reads the same path) into PostgreSQL, a second SyncJob re-imports
 * a named file, and `kubectl ferry files` shows what the state database recorded through the data
 * API (sourcefiles.data.ferry.dev). A partner's SFTP server (real sshd) read through an ExportTarget:
 * the controller's read probe lists it into the SyncFlow's status.sourceListing, and `kubectl ferry
 * files` shows a file no run has read yet as pending.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../src/api/exporttarget.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { interopAvailable, startSshd, type Sshd } from '../integration/export/system-servers.js';
import { startDataApiFixture, type DataApiFixture } from './fixtures/data-api.js';
import { createNamespace, createSecret, jobManifest, kubeClient, kubeconfigPath, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { JobRunner } from './fixtures/job-runner.js';
import { kubectl } from './fixtures/kubectl.js';

const ns = 'e2e-files';
let kube: Kube;
let controller: Controller;
let runner: JobRunner;
let dataApi: DataApiFixture;
let inbox: string;
let targetUrl: string;
let stateUrl: string;

const csv = (...lines: string[]) => ['no;name', ...lines].join('\n');
const staff = () => withClient(targetUrl, async (c) => (await c.query('SELECT employee_no, name FROM staff ORDER BY employee_no')).rows.map((r) => [r.employee_no, r.name]));

function payrollFlow(): SyncFlow {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'payroll', namespace: ns },
    spec: {
      direction: 'OneWay',
      source: { files: { directory: inbox, volumeClaim: { name: 'partner-inbox' }, settleSeconds: 0 } },
      target: { postgres: { secretRef: { name: 'payroll-target' } } },
      entities: [
        {
          name: 'employees',
          source: { table: 'employees', keys: ['no'], file: { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } } },
          target: { table: 'staff', keys: ['id'] },
          fields: [
            { source: 'no', target: 'employee_no' },
            { source: 'name', target: 'name' },
          ],
          match: [{ source: 'no', target: 'employee_no' }],
        },
      ],
    } as SyncFlow['spec'],
  };
}

async function finished(name: string): Promise<SyncJob> {
  const job = await waitForPhase(kube, ns, name, ['Succeeded', 'Failed'], 100_000);
  expect(job.status?.phase, job.status?.message).toBe('Succeeded');
  return job;
}

async function reportOf(name: string): Promise<{ totals: { read: number; created: number; updated: number } }> {
  const map = await waitFor(`report of ${name}`, async () => {
    const job = await kube.get<SyncJob>('SyncJob', ns, name);
    return job.status?.reportRef?.configMap ? kube.core.readNamespacedConfigMap({ namespace: ns, name: job.status.reportRef.configMap }) : undefined;
  });
  return JSON.parse(map.data!['report.json']!);
}

const kubectlFerry = (...args: string[]) => kubectl(['ferry', ...args, '-n', ns]);

beforeAll(async () => {
  kube = kubeClient();
  await createNamespace(kube, ns);
  inbox = await mkdtemp(join(tmpdir(), 'ferry-e2e-inbox-'));
  [stateUrl, targetUrl] = await Promise.all([freshDatabase('e2e_files_state'), freshDatabase('e2e_files_dst')]);
  await withClient(targetUrl, (c) => c.query('CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text)'));
  await createSecret(kube, ns, 'ferry-state-db', { url: stateUrl });
  await createSecret(kube, ns, 'payroll-target', { url: targetUrl });
  dataApi = await startDataApiFixture(kube, kubeconfigPath(), stateUrl);
  controller = await startController(ns, stateUrl);
  runner = new JobRunner({ kubeconfigPath: kubeconfigPath(), namespace: ns });
  await runner.start();
  await kube.create('SyncFlow', payrollFlow());
});

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
  await dataApi?.stop();
  if (inbox) await rm(inbox, { recursive: true, force: true });
});

describe('a files source in the cluster', () => {
  it('a SyncJob imports the files; a second one re-imports a named file; kubectl ferry files shows both', async () => {
    await writeFile(join(inbox, 'changes-1.csv'), csv('1;Ann', '2;Ben'));
    await writeFile(join(inbox, 'changes-2.csv'), csv('1;Ann Smith'));
    await kube.create('SyncJob', jobManifest(ns, 'payroll-import', 'payroll', { mode: 'Incremental' }));
    const first = await finished('payroll-import');
    expect(await staff()).toEqual([
      ['1', 'Ann Smith'],
      ['2', 'Ben'],
    ]);
    expect(first.status?.summary?.entities?.find((e) => e.name === 'employees')).toMatchObject({ read: 3, created: 2 });
    expect((await reportOf('payroll-import')).totals).toMatchObject({ read: 3, created: 2 });

    // Re-imported after changes-2, changes-1's rows are the newest: Ann is Ann again.
    await kube.create('SyncJob', jobManifest(ns, 'payroll-reimport', 'payroll', { mode: 'Incremental', reimport: ['changes-1.csv'] }));
    const again = await finished('payroll-reimport');
    expect(await staff()).toEqual([
      ['1', 'Ann'],
      ['2', 'Ben'],
    ]);
    expect(again.status?.summary?.entities?.find((e) => e.name === 'employees')).toMatchObject({ read: 2, updated: 1 });
    expect((await reportOf('payroll-reimport')).totals).toMatchObject({ read: 2, updated: 1 });

    // The plugin, through the data API: both files imported, changes-1 now after changes-2.
    const listed = await kubectlFerry('files', 'payroll', '-o', 'json');
    expect(listed.status, listed.stderr).toBe(0);
    const body = JSON.parse(listed.stdout) as { flow: string; files: Record<string, unknown>[]; note: string };
    expect(body.files.map((f) => [f.entity, f.name, f.status, f.rows])).toEqual([
      ['employees', 'changes-2.csv', 'imported', 1],
      ['employees', 'changes-1.csv', 'imported', 2],
    ]);
    expect(body.files[1]).toMatchObject({ importedAt: expect.stringMatching(/^\d{4}-/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), path: 'changes-1.csv' });
    expect(body.note).toMatch(/^recorded files only/);

    const table = await kubectlFerry('files', 'payroll');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/│ employees\s+│ changes-1\.csv\s+│ imported\s+│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+│ 2\s+│/);
    expect(table.stdout).toMatch(/imported: 2\nrecorded files only/);

    // The resource itself, printed by the API server's Table support.
    const get = await kubectl(['get', 'sourcefiles', '-n', ns, '--field-selector', 'flow=payroll']);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toMatch(/^NAME\s+FLOW\s+ENTITY\s+FILE\s+STATUS\s+ROWS\s+IMPORTED\s+REASON/);
    expect(get.stdout).toMatch(/payroll\s+employees\s+changes-1\.csv\s+imported\s+2\s+/);

    // No connection string in any output.
    for (const out of [listed, table, get]) expect(out.stdout + out.stderr).not.toMatch(/postgres(ql)?:\/\//);
  }, 115_000);
});

describe.skipIf(!interopAvailable)('pending files in the cluster view (a partner SFTP server through an ExportTarget)', () => {
  let sshd: Sshd;
  const partnerStaff = () => withClient(targetUrl, async (c) => (await c.query('SELECT employee_no, name FROM partner_staff ORDER BY employee_no')).rows.map((r) => [r.employee_no, r.name]));
  type Listed = { files: { name: string; status: string; detail: string; rows?: number; importedAt?: string; size: number }[]; note: string };
  const filesOf = async (): Promise<Listed> => {
    const listed = await kubectlFerry('files', 'partner', '-o', 'json');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout + listed.stderr).not.toMatch(/PRIVATE KEY|postgres(ql)?:\/\//);
    return JSON.parse(listed.stdout) as Listed;
  };

  beforeAll(async () => {
    sshd = await startSshd();
    await createSecret(kube, ns, 'partner-sftp-creds', { username: sshd.user, privateKey: sshd.clientPrivateKey });
    await withClient(targetUrl, (c) => c.query('CREATE TABLE partner_staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text)'));
  }, 60_000);

  afterAll(async () => {
    await sshd?.close();
  });

  it("a file that lands after the last import shows as pending after the controller's probe, then as imported after the next SyncJob", async () => {
    await writeFile(join(sshd.uploadDir, 'changes-1.csv'), csv('1;Ann'));
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
    const flow = payrollFlow();
    flow.metadata.name = 'partner';
    flow.spec.source = { files: { exportTargetRef: { name: 'partner-sftp' }, settleSeconds: 0 } };
    flow.spec.entities[0].target.table = 'partner_staff';
    await kube.create('SyncFlow', flow);
    await kube.create('SyncJob', jobManifest(ns, 'partner-import-1', 'partner', { mode: 'Incremental' }));
    await finished('partner-import-1');
    expect(await partnerStaff()).toEqual([['1', 'Ann']]);

    // A new file after the import: the next probe (every 10 s) lists it into the SyncFlow's status.
    const landed = Date.now();
    await writeFile(join(sshd.uploadDir, 'changes-2.csv'), csv('2;Ben'));
    const listing = await waitFor(
      'status.sourceListing with changes-2.csv',
      async () => {
        const listed = (await kube.get<SyncFlow>('SyncFlow', ns, 'partner')).status?.sourceListing;
        return listed && Date.parse(listed.listedAt) >= landed && listed.entities[0]?.files.some((f) => f.name === 'changes-2.csv') ? listed : undefined;
      },
      60_000,
    );
    expect(listing.entities).toEqual([
      {
        name: 'employees',
        files: [
          { name: 'changes-1.csv', size: 13, modifiedAt: expect.stringMatching(/^\d{4}-/) },
          { name: 'changes-2.csv', size: 13, modifiedAt: expect.stringMatching(/^\d{4}-/) },
        ],
      },
    ]);

    const pending = await filesOf();
    expect(pending.files.map((f) => [f.name, f.status, f.detail])).toEqual([
      ['changes-1.csv', 'unchanged', 'still at the location, unchanged: runs skip it'],
      ['changes-2.csv', 'pending', 'new: the next run imports it'],
    ]);
    expect(pending.files[0]).toMatchObject({ rows: 1, importedAt: expect.stringMatching(/^\d{4}-/) });
    expect(pending.files[1]).not.toHaveProperty('importedAt');
    expect(pending.note).toMatch(/^location listed by the controller's read probe at \S+ \(\d+s ago; the newest 20 files per entity\)/);
    const table = await kubectlFerry('files', 'partner');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/│ employees\s+│ changes-2\.csv\s+│ pending\s+│\s+│\s+│ 13\s+│/);
    expect(table.stdout).toMatch(/unchanged: 1, pending: 1\nlocation listed by the controller's read probe/);

    await kube.create('SyncJob', jobManifest(ns, 'partner-import-2', 'partner', { mode: 'Incremental' }));
    await finished('partner-import-2');
    expect(await partnerStaff()).toEqual([
      ['1', 'Ann'],
      ['2', 'Ben'],
    ]);
    const imported = await filesOf();
    expect(imported.files.map((f) => [f.name, f.status, f.rows])).toEqual([
      ['changes-1.csv', 'unchanged', 1],
      ['changes-2.csv', 'unchanged', 1],
    ]);
    expect(imported.files[1]!.importedAt).toMatch(/^\d{4}-/);

    // The status holds names, sizes and times only.
    const status = JSON.stringify((await kube.get<SyncFlow>('SyncFlow', ns, 'partner')).status);
    expect(status).not.toMatch(/PRIVATE KEY|BEGIN OPENSSH|postgres(ql)?:\/\//);

    // Moved to a PVC directory, which the controller cannot list: the old listing goes, the view says why.
    const moved = await kubectl(['patch', 'syncflow', 'partner', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { source: { files: { exportTargetRef: null, directory: '/in', volumeClaim: { name: 'partner-inbox' } } } } })]);
    expect(moved.status, moved.stderr).toBe(0);
    await waitFor('status.sourceListing removed', async () => !(await kube.get<SyncFlow>('SyncFlow', ns, 'partner')).status?.sourceListing, 30_000);
    const recordedOnly = await filesOf();
    expect(recordedOnly.files.map((f) => [f.name, f.status])).toEqual([
      ['changes-1.csv', 'imported'],
      ['changes-2.csv', 'imported'],
    ]);
    expect(recordedOnly.note).toMatch(/^recorded files only: the source is a directory on a volume only a SyncJob's pod mounts/);
  }, 180_000);
});
