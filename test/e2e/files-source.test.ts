/**
 * A files source in the cluster: SyncJobs import partner files from a directory (the PVC the Job
 * mounts; the job runner's process reads the same path) into PostgreSQL, a second SyncJob re-imports
 * a named file, and `kubectl ferry files` shows what the state database recorded through the data
 * API (sourcefiles.data.ferry.dev).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { freshDatabase, withClient } from '../helpers/databases.js';
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
