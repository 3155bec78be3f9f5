import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeTools } from '../../scripts/kube-tools.js';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { withClient } from '../helpers/databases.js';
import {
  controllerConfig,
  createSecret,
  flowManifest,
  holdSourceTable,
  jobManifest,
  kubeconfigPath,
  miniFlowDatabases,
  namespaceWithStateDb,
  startController,
  waitFor,
  waitForPhase,
  watchPhases,
} from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';
import { quotedPrintable, startSmtpSink, type SmtpSink } from './fixtures/smtp-sink.js';

const ns = 'e2e-syncjob';
const CONSOLE_URL = 'https://ferry.example.org/console';
let kube: Kube;
let controller: Controller;
let runner: JobRunner;
let smtp: SmtpSink;
let phases: ReturnType<typeof watchPhases>;
let crm: { sourceUrl: string; targetUrl: string };

const getFlow = (name: string) => kube.get<SyncFlow>('SyncFlow', ns, name);

beforeAll(async () => {
  let stateUrl: string;
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_state'));
  smtp = await startSmtpSink();
  await createSecret(kube, ns, 'smtp', { host: '127.0.0.1', port: String(smtp.port), from: 'ferry@example.org', password: 'smtp-secret-value' });
  crm = await miniFlowDatabases(kube, ns, 'crm');
  await miniFlowDatabases(kube, ns, 'broken');
  await createSecret(kube, ns, 'broken-source', { url: 'postgres://nobody:pw@127.0.0.1:1/nowhere' });
  controller = await startController(ns, stateUrl, { config: controllerConfig({ consoleUrl: CONSOLE_URL }) });
  runner = await startJobRunner(ns);
  phases = watchPhases(kube, ns);
});

afterAll(async () => {
  phases?.stop();
  await controller?.stop();
  await runner?.stop();
  await smtp?.close();
});

describe('SyncFlow and SyncJob against a real kube-apiserver', () => {
  it('marks a valid SyncFlow Ready', async () => {
    await kube.create('SyncFlow', flowManifest(ns, 'crm', { notifications: { adminEmails: ['admin@example.org'], smtpSecretRef: { name: 'smtp' } } }));
    const flow = await waitFor('crm Ready', async () => {
      const f = await getFlow('crm');
      return f.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? f : undefined;
    });
    expect(flow.status?.conditions?.some((c) => c.type === 'Stalled')).toBe(false);
    expect(flow.status?.observedGeneration).toBe(flow.metadata.generation);
  });

  it('stalls an invalid SyncFlow naming the field, and recovers when fixed', async () => {
    const invalid = flowManifest(ns, 'invalid');
    invalid.spec.entities[2].requires = ['nosuchentity'];
    await kube.create('SyncFlow', invalid);
    const stalled = await waitFor('invalid Stalled', async () => {
      const f = await getFlow('invalid');
      return f.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    });
    expect(stalled.reason).toBe('InvalidSpec');
    expect(stalled.message).toContain('spec.entities[2].requires');
    const ready = (await getFlow('invalid')).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });

    await kube.custom.patchNamespacedCustomObject(
      { group: 'ferry.dev', version: 'v1alpha1', plural: 'syncflows', namespace: ns, name: 'invalid', body: [{ op: 'replace', path: '/spec/entities/2/requires', value: ['people'] }] },
    );
    await waitFor('invalid recovered', async () => {
      const f = await getFlow('invalid');
      const conditions = f.status?.conditions ?? [];
      return !conditions.some((c) => c.type === 'Stalled') && conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    });
  });

  it('runs a Full SyncJob created with kubectl: Scheduled -> Running -> Succeeded, with data, summary, report and one e-mail', async () => {
    const release = await holdSourceTable(crm.sourceUrl);
    const manifest = JSON.stringify(jobManifest(ns, 'crm-full', 'crm', { mode: 'Full', requestedBy: 'ann@example.org' }));
    execFileSync(kubeTools().kubectl, ['--kubeconfig', kubeconfigPath(), 'create', '-f', '-'], { input: manifest, stdio: ['pipe', 'pipe', 'pipe'] });
    await waitForPhase(kube, ns, 'crm-full', ['Running']);
    await release();
    const job = await waitForPhase(kube, ns, 'crm-full', ['Succeeded', 'Failed']);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(phases.phases.get('crm-full')).toEqual(['Scheduled', 'Running', 'Succeeded']);

    const people = await withClient(crm.targetUrl, (c) => c.query('SELECT count(*)::int AS n FROM people'));
    expect(people.rows[0].n).toBe(7);
    expect(job.status?.summary?.entities?.find((e) => e.name === 'people')).toMatchObject({ read: 7, created: 7 });
    expect(job.status?.startedAt).toBeDefined();
    expect(job.status?.completedAt).toBeDefined();
    expect(job.status?.jobRef?.name).toBe('crm-full');

    const report = await waitFor('report ConfigMap', async () => {
      const withRef = await kube.get<typeof job>('SyncJob', ns, 'crm-full');
      return withRef.status?.reportRef?.configMap ? kube.core.readNamespacedConfigMap({ namespace: ns, name: 'crm-full-report' }) : undefined;
    });
    expect(report.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'SyncJob', name: 'crm-full', uid: job.metadata.uid });
    expect(JSON.parse(report.data!['report.json']).totals.created).toBeGreaterThanOrEqual(7);
    expect(Buffer.byteLength(JSON.stringify(report.data))).toBeLessThan(1024 * 1024);

    const sent = await waitFor('e-mail sent', async () => {
      const j = await kube.get<typeof job>('SyncJob', ns, 'crm-full');
      return j.status?.notification?.state === 'Sent' ? j.status.notification : undefined;
    });
    expect(sent.recipients).toEqual(['ann@example.org', 'admin@example.org']);
    await new Promise((r) => setTimeout(r, 3000)); // a second e-mail would show up by now
    const mails = smtp.messages.filter((m) => m.raw.includes('crm-full'));
    expect(mails).toHaveLength(1);
    expect(mails[0].to.sort()).toEqual(['admin@example.org', 'ann@example.org']);
    expect(mails[0].raw).toContain('text/html');
    expect(mails[0].raw).toContain('text/plain');
    expect(mails[0].raw).not.toContain('smtp-secret-value');
    expect(mails[0].raw).not.toContain(new URL(crm.sourceUrl).password || 'no-password-in-url');
    // The summary leads the text part, and the e-mail links to the run's page in the configured console.
    const text = quotedPrintable(mails[0].raw);
    expect(text).toMatch(/^7 people( and [\d,]+ related rows?)? created in [\d.]+ m?s(; \d+ rows? rejected)?\r?$/m);
    expect(text).toContain(`Open this run in the Ferry console: ${CONSOLE_URL}/runs/crm-full?ns=${ns}`);
    expect(text).toContain(`href="${CONSOLE_URL}/runs/crm-full?ns=${ns}"`);

    const events = await kube.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=crm-full' });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Running', 'Succeeded', 'ReportSent']));
    const estimateless = job.status?.estimate; // the first run of the flow has no history to estimate from
    expect(estimateless).toBeUndefined();
  });

  it('runs a Record SyncJob, with an estimate from the first run', async () => {
    await kube.create('SyncJob', jobManifest(ns, 'crm-record', 'crm', { mode: 'Record', record: { entity: 'people', key: '10' } }));
    const job = await waitForPhase(kube, ns, 'crm-record', ['Succeeded', 'Failed']);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(job.status?.estimate?.basis).toMatch(/throughput/);
    expect(job.status?.summary?.entities?.find((e) => e.name === 'people')?.read).toBeGreaterThanOrEqual(1);
  });

  it('fails a SyncJob whose run fails, with the reason and the engine message', async () => {
    await kube.create('SyncFlow', flowManifest(ns, 'broken'));
    await kube.create('SyncJob', jobManifest(ns, 'broken-1', 'broken', { mode: 'Incremental' }));
    const job = await waitForPhase(kube, ns, 'broken-1', ['Succeeded', 'Failed']);
    expect(job.status?.phase).toBe('Failed');
    const ready = job.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('False');
    expect(['EngineError', 'BackoffLimitExceeded']).toContain(ready?.reason);
    expect(job.status?.message).toMatch(/cannot connect to the source database/);
    expect(job.status?.message).not.toContain(':pw@');
  });

  it('serves health and Prometheus metrics', async () => {
    const base = `http://127.0.0.1:${controller.healthPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/ferry_reconciles_total\{kind="SyncJob",result="success"\} \d+/);
    expect(metrics).toMatch(/ferry_runs_total\{namespace="e2e-syncjob",flow="crm",mode="Full",result="Succeeded"\} 1/);
    expect(metrics).toMatch(/ferry_records_total\{namespace="e2e-syncjob",flow="crm",outcome="created"\}/);
    expect(metrics).toContain('ferry_workqueue_depth');
    expect(metrics).toContain('ferry_run_duration_seconds_bucket');
  });
});
