/**
 * Hostile cases that need a real kube-apiserver (this folder runs in the e2e project): a SyncFlow
 * edited between admission and the Job's start, and a Secret holding a URL no driver reads as meant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import type { RunReport } from '../../../src/engine/report.js';
import type { Controller } from '../../../src/controller/controller.js';
import type { Kube } from '../../../src/controller/kube.js';
import { withClient } from '../../helpers/databases.js';
import { createSecret, flowManifest, jobManifest, miniFlowDatabases, namespaceWithStateDb, startController, waitFor, waitForPhase } from '../../e2e/fixtures/env.js';
import { startJobRunner, type JobRunner } from '../../e2e/fixtures/job-runner.js';

const ns = 'hostile-syncjob';
let kube: Kube;
let controller: Controller;
let runner: JobRunner | undefined;

const readyFlow = (name: string) =>
  waitFor(`${name} Ready`, async () => {
    const flow = await kube.get<SyncFlow>('SyncFlow', ns, name);
    return flow.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? flow : undefined;
  });

/** Started late on purpose: until it runs, admitted SyncJobs wait Scheduled for their pods. */
async function startRunner(): Promise<void> {
  if (runner) return;
  runner = await startJobRunner(ns);
}

beforeAll(async () => {
  let stateUrl: string;
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'hostile_kube_state'));
  controller = await startController(ns, stateUrl);
});

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
});

describe('SyncJobs against a hostile or careless user', () => {
  it('a SyncFlow edited after admission: the Job runs the admitted spec, and the status records both generations', async () => {
    const { targetUrl } = await miniFlowDatabases(kube, ns, 'edited');
    await kube.create('SyncFlow', flowManifest(ns, 'edited'));
    const admittedFlow = await readyFlow('edited');
    // No Job runs yet: the SyncJob is admitted (Scheduled) and waits for its pod.
    await kube.create('SyncJob', jobManifest(ns, 'edited-full', 'edited'));
    const scheduled = await waitForPhase(kube, ns, 'edited-full', ['Scheduled']);
    expect(scheduled.status?.flowGeneration).toEqual({ admitted: admittedFlow.metadata.generation });

    // Edited before the pod starts: only firms would be synced by the live spec.
    const edited = await kube.get<SyncFlow>('SyncFlow', ns, 'edited');
    edited.spec.entities = edited.spec.entities.filter((e) => e.name === 'firms');
    await kube.custom.replaceNamespacedCustomObject({ group: 'ferry.dev', version: 'v1alpha1', plural: 'syncflows', namespace: ns, name: 'edited', body: edited });
    await waitFor('edited flow at its new generation', async () => (await kube.get<SyncFlow>('SyncFlow', ns, 'edited')).metadata.generation! > admittedFlow.metadata.generation!);

    await startRunner();
    const done = await waitForPhase(kube, ns, 'edited-full', ['Succeeded', 'Failed']);
    expect(done.status?.phase, done.status?.message).toBe('Succeeded');
    expect(done.status?.flowGeneration).toEqual({ admitted: admittedFlow.metadata.generation, ran: admittedFlow.metadata.generation });
    expect(done.status?.message).toContain(`ran the admitted SyncFlow spec (generation ${admittedFlow.metadata.generation})`);
    // The run report (ConfigMap, and the e-mail rendered from the same report) says it too.
    const note = `ran the admitted SyncFlow spec (generation ${admittedFlow.metadata.generation}); the flow is now at generation ${admittedFlow.metadata.generation! + 1}`;
    const reported = await waitFor('report ConfigMap', async () => (await kube.get<SyncJob>('SyncJob', ns, 'edited-full')).status?.reportRef?.configMap);
    const configMap = await kube.core.readNamespacedConfigMap({ namespace: ns, name: reported });
    expect((JSON.parse(configMap.data!['report.json']) as RunReport).notes).toEqual([note]);
    expect(configMap.data!['report.txt']).toContain(`note: ${note}`);
    const people = await withClient(targetUrl, async (c) => Number((await c.query('SELECT count(*) AS n FROM people')).rows[0].n));
    expect(people).toBe(7);
  });

  it('ferry job names the Secret and key of a connection string that cannot be read as intended', async () => {
    await miniFlowDatabases(kube, ns, 'badurl');
    await createSecret(kube, ns, 'badurl-source', { url: 'postgres://ferry:pa#ss/word@127.0.0.1:5432/source' });
    await kube.create('SyncFlow', flowManifest(ns, 'badurl'));
    await readyFlow('badurl');
    await startRunner();
    await kube.create('SyncJob', jobManifest(ns, 'badurl-full', 'badurl'));
    const done = await waitForPhase(kube, ns, 'badurl-full', ['Succeeded', 'Failed']);
    expect(done.status?.phase).toBe('Failed');
    expect(done.status?.message).toContain('Secret "badurl-source" key "url"');
    expect(done.status?.message).not.toContain('pa#ss');
  });
});
