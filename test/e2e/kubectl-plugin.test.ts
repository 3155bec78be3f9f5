/**
 * `kubectl ferry` end to end: the real kubectl 1.35 finds the plugin on PATH and runs it against the
 * e2e kube-apiserver, with the controller and the job-runner fixture (which plays kubelet) running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeTools } from '../../scripts/kube-tools.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { withClient } from '../helpers/databases.js';
import { T0 } from '../helpers/mini-flow.js';
import { flowManifest, holdSourceTable, kubeconfigPath, miniFlowDatabases, namespaceWithStateDb, startController, waitFor } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';

const repo = join(import.meta.dirname, '../..');
const ns = 'e2e-plugin';
let kube: Kube;
let controller: Controller;
let runner: JobRunner;
let members: { sourceUrl: string; targetUrl: string };
const pathDir = mkdtempSync(join(tmpdir(), 'ferry-plugin-path-'));

/**
 * `kubectl ferry ARGS` exactly as a user runs it: kubectl looks kubectl-ferry up on PATH. Asynchronous:
 * the controller and the job runner live in this process and must keep running meanwhile.
 */
function kubectlFerry(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubeTools().kubectl, ['ferry', ...args, '-n', ns], {
      env: { ...process.env, PATH: `${pathDir}:${process.env.PATH}`, KUBECONFIG: kubeconfigPath() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  symlinkSync(join(repo, 'bin', 'kubectl-ferry.mjs'), join(pathDir, 'kubectl-ferry'));
  let stateUrl: string;
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_plugin_state'));
  members = await miniFlowDatabases(kube, ns, 'members');
  // The record the plugin syncs: person 42, with a firm and an interest.
  await withClient(members.sourceUrl, async (c) => {
    await c.query(`INSERT INTO people VALUES (42, 'Zoe', 'zoe@example.org', 'Member', 2, $1)`, [T0]);
    await c.query(`INSERT INTO interests VALUES (42, 'chess', $1)`, [T0]);
  });
  controller = await startController(ns, stateUrl);
  runner = await startJobRunner(ns);
  await kube.create('SyncFlow', flowManifest(ns, 'members'));
  await waitFor('members Ready', async () => {
    const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'members');
    return flow.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  });
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
  rmSync(pathDir, { recursive: true, force: true });
});

describe('kubectl ferry against a running controller', () => {
  let runName = '';

  it('sync --record people/42 --wait succeeds and prints the report', async () => {
    const result = await kubectlFerry('sync', 'members', '--record', 'people/42', '--wait', '--requested-by', 'ops@example.org', '--timeout', '150s');
    expect(result.status, result.stderr).toBe(0);
    runName = /syncjob\.ferry\.dev\/(members-record-\w+) created \(Record\)/.exec(result.stdout)?.[1] ?? '';
    expect(runName, result.stdout).not.toBe('');
    expect(result.stderr).toContain('Succeeded');
    // The report: the record, its required firm and its related interest.
    expect(result.stdout).toMatch(/people/);
    expect(result.stdout).toMatch(/firms/);
    expect(result.stdout).toMatch(/interests/);
    const job = await kube.get<SyncJob>('SyncJob', ns, runName);
    expect(job.spec).toMatchObject({ mode: 'Record', record: { entity: 'people', key: '42' }, requestedBy: 'ops@example.org' });
    const synced = await withClient(members.targetUrl, (c) => c.query(`SELECT p.full_name, f.title FROM people p JOIN firms f ON f.id = p.firm_id WHERE p.email = 'zoe@example.org'`));
    expect(synced.rows).toEqual([{ full_name: 'Zoe', title: 'Globex' }]);
  });

  it('status shows the run, the flow and its pairs', async () => {
    const result = await kubectlFerry('status', 'members');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('members  OneWay');
    expect(result.stdout).toContain('Ready:      True');
    expect(result.stdout).toMatch(new RegExp(`Last runs:\\s+${runName}\\s+Record people/42\\s+Succeeded`));
    expect(result.stdout).toContain('Pairs:');
  });

  it('runs lists it and report prints it', async () => {
    const runs = await kubectlFerry('runs', 'members');
    expect(runs.status, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(new RegExp(`${runName}\\s+Record people/42\\s+Succeeded`));
    const report = await kubectlFerry('report', runName);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain(`${runName}: Record of members, Succeeded`);
    expect(report.stdout).toMatch(/people/);
  });

  it('a sync while another runs is rejected, and the plugin says why and exits non-zero', async () => {
    const release = await holdSourceTable(members.sourceUrl);
    try {
      const first = await kubectlFerry('sync', 'members', '--full', '-o', 'name');
      expect(first.status, first.stderr).toBe(0);
      const active = first.stdout.trim().replace('syncjob.ferry.dev/', '');
      await waitFor('first run active', async () => {
        const job = await kube.get<SyncJob>('SyncJob', ns, active);
        return ['Scheduled', 'Running'].includes(job.status?.phase ?? '');
      });
      const second = await kubectlFerry('sync', 'members', '--wait', '--timeout', '60s');
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`was rejected: members is already syncing: ${active}, (running|scheduled) since \\d\\d:\\d\\d`));
    } finally {
      await release();
    }
  });

  it('suspend and resume one schedule', async () => {
    await kube.custom.patchNamespacedCustomObject(
      { group: 'ferry.dev', version: 'v1alpha1', namespace: ns, plural: 'syncflows', name: 'members', body: [{ op: 'add', path: '/spec/schedules', value: [{ name: 'nightly', cron: '0 2 * * *', mode: 'Full' }] }] },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/json-patch+json'),
    );
    const suspended = await kubectlFerry('suspend', 'members', '--schedule', 'nightly');
    expect(suspended.status, suspended.stderr).toBe(0);
    expect(suspended.stdout).toContain('syncflow.ferry.dev/members schedule nightly suspended');
    expect((await kube.get<SyncFlow>('SyncFlow', ns, 'members')).spec.schedules?.[0].suspend).toBe(true);
    expect((await kubectlFerry('status', 'members')).stdout).toMatch(/nightly\s+Full\s+-\s+\(suspended\)/);
    expect((await kubectlFerry('resume', 'members', '--schedule', 'nightly')).status).toBe(0);
    expect((await kube.get<SyncFlow>('SyncFlow', ns, 'members')).spec.schedules?.[0].suspend).toBe(false);
  });
});
