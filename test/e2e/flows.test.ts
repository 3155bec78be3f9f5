import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { flowManifest, getJob, holdSourceTable, jobManifest, miniFlowDatabases, namespaceWithStateDb, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';

const ns = 'e2e-flows';
let kube: Kube;
let stateUrl: string;
let controller: Controller;
let runner: JobRunner;

const jobsOf = async (flow: string): Promise<SyncJob[]> =>
  (await kube.list<SyncJob>('SyncJob', ns)).items.filter((j) => j.spec.flowRef.name === flow);

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_flows_state'));
  controller = await startController(ns, stateUrl);
  runner = await startJobRunner(ns);
});

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
});

describe('concurrency policies', () => {
  it('Forbid rejects a second SyncJob while one runs, naming it', async () => {
    const { sourceUrl } = await miniFlowDatabases(kube, ns, 'forbid');
    await kube.create('SyncFlow', flowManifest(ns, 'forbid', { concurrencyPolicy: 'Forbid' }));
    const release = await holdSourceTable(sourceUrl);
    await kube.create('SyncJob', jobManifest(ns, 'forbid-1', 'forbid'));
    await waitForPhase(kube, ns, 'forbid-1', ['Running']);
    await kube.create('SyncJob', jobManifest(ns, 'forbid-2', 'forbid'));
    const rejected = await waitForPhase(kube, ns, 'forbid-2', ['Rejected', 'Scheduled', 'Running']);
    expect(rejected.status?.phase).toBe('Rejected');
    expect(rejected.status?.message).toContain('forbid-1');
    await release();
    expect((await waitForPhase(kube, ns, 'forbid-1', ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
  });

  it('Queue holds the second SyncJob, then runs it when the first ends', async () => {
    const { sourceUrl } = await miniFlowDatabases(kube, ns, 'queue');
    await kube.create('SyncFlow', flowManifest(ns, 'queue', { concurrencyPolicy: 'Queue' }));
    const release = await holdSourceTable(sourceUrl);
    await kube.create('SyncJob', jobManifest(ns, 'queue-1', 'queue'));
    await waitForPhase(kube, ns, 'queue-1', ['Running']);
    await kube.create('SyncJob', jobManifest(ns, 'queue-2', 'queue', { mode: 'Incremental' }));
    const queued = await waitForPhase(kube, ns, 'queue-2', ['Queued', 'Scheduled', 'Running']);
    expect(queued.status?.phase).toBe('Queued');
    expect(queued.status?.message).toContain('queue-1');
    await release();
    const first = await waitForPhase(kube, ns, 'queue-1', ['Succeeded', 'Failed']);
    const second = await waitForPhase(kube, ns, 'queue-2', ['Succeeded', 'Failed']);
    expect([first.status?.phase, second.status?.phase]).toEqual(['Succeeded', 'Succeeded']);
    expect(new Date(second.status!.startedAt!).getTime()).toBeGreaterThanOrEqual(new Date(first.status!.completedAt!).getTime());
  });

  it('Replace cancels the running SyncJob and runs the new one', async () => {
    const { sourceUrl } = await miniFlowDatabases(kube, ns, 'replace');
    await kube.create('SyncFlow', flowManifest(ns, 'replace', { concurrencyPolicy: 'Replace' }));
    const release = await holdSourceTable(sourceUrl);
    await kube.create('SyncJob', jobManifest(ns, 'replace-1', 'replace'));
    await waitForPhase(kube, ns, 'replace-1', ['Running']);
    await kube.create('SyncJob', jobManifest(ns, 'replace-2', 'replace'));
    const replaced = await waitForPhase(kube, ns, 'replace-1', ['Failed', 'Succeeded']);
    expect(replaced.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Replaced');
    expect(replaced.status?.message).toContain('replace-2');
    await waitFor('replaced Job deleted', async () => !(await kube.batch.listNamespacedJob({ namespace: ns })).items.some((j) => j.metadata?.name === 'replace-1'));
    await release();
    expect((await waitForPhase(kube, ns, 'replace-2', ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
  });
});

describe('SyncFlow lifecycle', () => {
  it('prunes finished SyncJobs beyond the history limits, with their Jobs', async () => {
    await miniFlowDatabases(kube, ns, 'history');
    await kube.create('SyncFlow', flowManifest(ns, 'history', { concurrencyPolicy: 'Queue', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
    for (const i of [1, 2, 3]) await kube.create('SyncJob', jobManifest(ns, `history-${i}`, 'history', { mode: 'Incremental' }));
    await waitFor('history pruned to one', async () => {
      const jobs = await jobsOf('history');
      return jobs.length === 1 && jobs[0].status?.phase === 'Succeeded' ? jobs : undefined;
    }, 120_000);
    expect((await jobsOf('history'))[0].metadata.name).toBe('history-3');
    const k8sJobs = (await kube.batch.listNamespacedJob({ namespace: ns, labelSelector: 'ferry.dev/flow=history' })).items;
    expect(k8sJobs.map((j) => j.metadata?.name)).toEqual(['history-3']);
    const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'history');
    expect(flow.status?.history?.[0]).toMatchObject({ jobName: 'history-3', phase: 'Succeeded', mode: 'Incremental' });
    expect(flow.status?.lastSuccessfulRun?.Incremental).toBeDefined();
  });

  it('creates one SyncJob per trigger annotation token', async () => {
    await miniFlowDatabases(kube, ns, 'trigger');
    await kube.create('SyncFlow', flowManifest(ns, 'trigger', { concurrencyPolicy: 'Queue' }));
    const annotate = (value: string, extra: Record<string, string> = {}) =>
      kube.patchMetadata('SyncFlow', ns, 'trigger', { annotations: { 'ferry.dev/sync-requested': value, ...extra } });
    await annotate('Full@t1');
    await waitFor('handled t1', async () => (await kube.get<SyncFlow>('SyncFlow', ns, 'trigger')).status?.lastHandledRequest === 'Full@t1');
    await annotate('Full@t1', { unrelated: 'change' }); // same token: nothing new
    await new Promise((r) => setTimeout(r, 1500));
    expect(await jobsOf('trigger')).toHaveLength(1);
    await annotate('Record:people/10@t2');
    await waitFor('two jobs', async () => ((await jobsOf('trigger')).length === 2 ? true : undefined));
    const jobs = await jobsOf('trigger');
    expect(jobs.map((j) => j.spec.mode).sort()).toEqual(['Full', 'Record']);
    expect(jobs.find((j) => j.spec.mode === 'Record')?.spec.record).toEqual({ entity: 'people', key: '10' });
    for (const job of jobs) expect((await waitForPhase(kube, ns, job.metadata.name, ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
  });

  it('fires a seconds-level schedule once per slot, also across a controller restart; environment gating holds other schedules', async () => {
    await miniFlowDatabases(kube, ns, 'cron');
    await kube.create(
      'SyncFlow',
      flowManifest(ns, 'cron', {
        concurrencyPolicy: 'Forbid',
        schedules: [
          { name: 'tick', cron: '*/4 * * * * *', mode: 'Incremental', startingDeadlineSeconds: 3 },
          { name: 'staging-only', cron: '* * * * * *', mode: 'Full', enabledIn: ['staging'] },
        ],
      }),
    );
    await waitFor('two scheduled runs', async () => ((await jobsOf('cron')).length >= 2 ? true : undefined), 30_000);
    await controller.stop();
    await new Promise((r) => setTimeout(r, 9000)); // two slots pass while no controller runs
    controller = await startController(ns, stateUrl);
    await waitFor('schedule resumes', async () => {
      const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'cron');
      const tick = flow.status?.schedules?.find((s) => s.name === 'tick');
      return tick?.lastScheduleTime && Date.now() - new Date(tick.lastScheduleTime).getTime() < 5000 ? true : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 4500));
    await kube.custom.patchNamespacedCustomObject({
      group: 'ferry.dev', version: 'v1alpha1', plural: 'syncflows', namespace: ns, name: 'cron',
      body: [{ op: 'add', path: '/spec/suspend', value: true }],
    });
    await new Promise((r) => setTimeout(r, 1000));

    const jobs = await jobsOf('cron');
    const slots = jobs.map((j) => Number(j.metadata.name.split('-').pop()));
    expect(jobs.every((j) => j.metadata.labels?.['ferry.dev/schedule'] === 'tick')).toBe(true); // staging-only never ran (environment prod)
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.every((s) => s % 4 === 0)).toBe(true);
    const sorted = [...slots].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((s, i) => (s - sorted[i]) / 4);
    // Consecutive while a controller ran; at most one gap (the downtime), covering at least one missed slot.
    expect(gaps.filter((g) => g > 1)).toHaveLength(1);
    const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'cron');
    const tick = flow.status?.schedules?.find((s) => s.name === 'tick');
    expect(tick?.missed).toBeGreaterThanOrEqual(1);
    expect(flow.status?.schedules?.find((s) => s.name === 'staging-only')?.lastScheduleTime).toBeUndefined();
    for (const job of jobs) await waitForPhase(kube, ns, job.metadata.name, ['Succeeded', 'Failed', 'Rejected']);
    void getJob;
  });
});
