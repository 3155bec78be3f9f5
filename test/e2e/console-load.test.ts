/**
 * How long the console's first page takes with 200 flows and 10,000 runs in the namespace, measured
 * in chromium (navigation timing) against the e2e kube-apiserver. A measurement, not a timed
 * assertion: the result goes to test-artifacts/console/load.json and the test's output; the page
 * lists 20 flows per page and reads only the SyncFlows, the active runs and the viewer's rights.
 * Creating 10,000 objects takes minutes on the test apiserver, so it runs only when asked:
 * FERRY_CONSOLE_LOAD=1 npx vitest run --project e2e test/e2e/console-load.test.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAIR_CATEGORIES, type SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import { startLocalConsole, type RunningConsole } from '../../src/console/start.js';
import type { Kube } from '../../src/controller/kube.js';
import { ARTIFACTS, chromiumAvailable, launchChromium } from './fixtures/browser.js';
import { createNamespace, flowManifest, kubeClient, kubeconfigPath } from './fixtures/env.js';

const ns = 'e2e-console-load';
const FLOWS = 200;
const RUNS = 10_000;
let kube: Kube;
let consoleServer: RunningConsole;
let browser: Browser;
const enabled = process.env.FERRY_CONSOLE_LOAD === '1' && chromiumAvailable();

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

const flowName = (i: number) => `flow-${String(i).padStart(3, '0')}`;

beforeAll(async () => {
  if (!enabled) return;
  kube = kubeClient();
  await createNamespace(kube, ns);
  const started = Date.now();
  await inParallel([...Array(FLOWS).keys()], 16, async (i) => {
    await kube.create<SyncFlow>('SyncFlow', flowManifest(ns, flowName(i)));
    // What the controller would have written: readiness, the last runs, pair counts; every tenth flow busy.
    await kube.patchStatus('SyncFlow', ns, flowName(i), {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-11-30T08:00:00Z' }],
      history: [1, 2, 3, 4, 5].map((n) => ({ jobName: `${flowName(i)}-run-${n}`, mode: 'Incremental', phase: 'Succeeded', startedAt: '2026-11-30T08:00:00Z', completedAt: '2026-11-30T08:01:00Z' })),
      categories: Object.fromEntries(PAIR_CATEGORIES.map((c, n) => [c, n * 100 + i])),
      ...(i % 10 === 0 ? { activeJob: { name: `${flowName(i)}-run-0` } } : {}),
    });
  });
  const runs = [...Array(RUNS).keys()].map((n) => ({ flow: flowName(n % FLOWS), n: Math.floor(n / FLOWS) }));
  await inParallel(runs, 24, ({ flow, n }) =>
    kube.create<SyncJob>('SyncJob', {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncJob',
      metadata: { name: `${flow}-run-${n}`, namespace: ns, labels: { 'ferry.dev/flow': flow } },
      spec: { flowRef: { name: flow }, mode: 'Incremental' },
    }),
  );
  console.log(`created ${FLOWS} flows and ${RUNS} SyncJobs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfigPath());
  consoleServer = await startLocalConsole({ kubeConfig: config, namespace: ns, port: 0, logger: pino({ level: 'silent' }) });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  if (!enabled) return;
  await browser?.close();
  await consoleServer?.stop();
  // No namespace controller runs in the e2e cluster: remove the objects themselves.
  for (const plural of ['syncjobs', 'syncflows']) {
    await kube?.custom.deleteCollectionNamespacedCustomObject({ group: 'ferry.dev', version: 'v1alpha1', namespace: ns, plural }).catch(() => {});
  }
}, 300_000);

describe.skipIf(!enabled)('console first page with 200 flows and 10,000 runs', () => {
  it('measures the first page load (cold and warm) in chromium', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The sign-in link sets the session cookie and redirects to the first page: that redirect is the cold load.
    await page.goto(consoleServer.url);
    const timing = async () =>
      (await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { ttfbMs: nav.responseStart - nav.requestStart, domContentLoadedMs: nav.domContentLoadedEventEnd - nav.startTime, loadMs: nav.loadEventEnd - nav.startTime, bytes: nav.transferSize };
      })) as { ttfbMs: number; domContentLoadedMs: number; loadMs: number; bytes: number };
    await page.waitForLoadState('load');
    const cold = await timing();
    expect(await page.locator('section.flow').count()).toBe(20);
    expect(await page.locator('body').textContent()).toContain(`${FLOWS} flows, page 1 of 10`);
    expect(await page.locator('#flow-flow-000 [data-testid="phase"]').textContent()).toBe('Pending');
    const warm: Awaited<ReturnType<typeof timing>>[] = [];
    for (let i = 0; i < 5; i++) {
      await page.reload({ waitUntil: 'load' });
      warm.push(await timing());
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const result = {
      flows: FLOWS,
      runs: RUNS,
      cold,
      warmMedian: { ttfbMs: median(warm.map((w) => w.ttfbMs)), domContentLoadedMs: median(warm.map((w) => w.domContentLoadedMs)), loadMs: median(warm.map((w) => w.loadMs)) },
      at: new Date().toISOString(),
    };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'load.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`console first page, ${FLOWS} flows / ${RUNS} runs: ${JSON.stringify(result)}`);
    await context.close();
  });
});
