import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ResilientInformer } from '../../src/controller/informer.js';
import type { Kube, KubeObject } from '../../src/controller/kube.js';
import { createNamespace, kubeClient, kubeconfigPath, waitFor } from './fixtures/env.js';
import { startBlackholeProxy, type BlackholeProxy } from './harness/blackhole-proxy.js';

// Why Ferry keeps its own informer (src/controller/informer.ts) on client-node 2.x, and why it needs
// no silence watchdog any more, measured against the real kube-apiserver.

const ns = 'e2e-informer';
type ConfigMap = k8s.V1ConfigMap & KubeObject;
let kube: Kube;
const proxies: BlackholeProxy[] = [];
const stops: (() => void)[] = [];

function capturedLogger(): { logger: pino.Logger; lines: { level: number; msg: string; err?: string }[] } {
  const lines: { level: number; msg: string; err?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function configMapInformer(kubeConfig: k8s.KubeConfig, name: string, logger: pino.Logger, listTimeoutMs?: number) {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const seen = new Set<string>();
  const informer = new ResilientInformer<ConfigMap>(kubeConfig, {
    name,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: async () => (await core.listNamespacedConfigMap({ namespace: ns })) as never,
    listTimeoutMs,
    logger,
    onEvent: (_event, object) => seen.add(object.metadata.name),
  });
  stops.push(() => informer.stop());
  return { informer, seen };
}

/** The test kubeconfig, pointed at a fresh black-hole proxy in front of the API server. */
async function throughProxy(): Promise<{ kubeConfig: k8s.KubeConfig; proxy: BlackholeProxy }> {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath());
  const cluster = kubeConfig.getCurrentCluster()!;
  const proxy = await startBlackholeProxy(cluster.server);
  proxies.push(proxy);
  kubeConfig.loadFromOptions({ clusters: [{ ...cluster, server: proxy.url }], users: kubeConfig.users, contexts: kubeConfig.contexts, currentContext: kubeConfig.currentContext });
  return { kubeConfig, proxy };
}

const createConfigMap = (name: string) => kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { a: '1' } } });

beforeAll(async () => {
  kube = kubeClient();
  await createNamespace(kube, ns);
});

afterAll(async () => {
  for (const stop of stops) stop();
  for (const proxy of proxies) await proxy.close();
});

describe('informers against a real kube-apiserver', () => {
  it("after an apiserver restart client-node's own ListWatch has stopped for good; ResilientInformer sees later changes", async () => {
    const core = kube.config.makeApiClient(k8s.CoreV1Api);
    const listWatch = k8s.makeInformer<k8s.V1ConfigMap>(kube.config, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    const listWatchSeen = new Set<string>();
    const listWatchErrors: unknown[] = [];
    listWatch.on('add', (object) => listWatchSeen.add(object.metadata!.name!));
    listWatch.on('error', (error) => listWatchErrors.push(error));
    stops.push(() => void listWatch.stop());
    await listWatch.start();
    const { informer, seen } = configMapInformer(kube.config, 'restart', capturedLogger().logger);
    await informer.start();

    await createConfigMap('before-restart');
    await waitFor('both see the first ConfigMap', async () => seen.has('before-restart') && listWatchSeen.has('before-restart'));

    const restarted = await fetch(`${inject('kubeControlUrl')}/restart-apiserver?downMs=2000`, { method: 'POST' });
    expect(restarted.status).toBe(200);
    await createConfigMap('after-restart');
    await waitFor('ResilientInformer sees the ConfigMap created after the restart', async () => seen.has('after-restart'), 60_000);
    expect(informer.restarts).toBeGreaterThan(0);
    // The same time again for the ListWatch: it reported an error and does not come back.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(listWatchErrors.length).toBeGreaterThan(0);
    expect(listWatchSeen.has('after-restart')).toBe(false);
  });

  it("a black-holed watch is ended by client-node's Watch after 30 s of silence and resumed without a relist or a warning", async () => {
    const { kubeConfig, proxy } = await throughProxy();
    const { logger, lines } = capturedLogger();
    const { informer, seen } = configMapInformer(kubeConfig, 'blackhole', logger);
    await informer.start();
    await createConfigMap('before-blackhole');
    await waitFor('the informer sees the ConfigMap', async () => seen.has('before-blackhole'));

    expect(proxy.blackhole()).toBeGreaterThan(0);
    const silencedAt = Date.now();
    await createConfigMap('during-blackhole');
    await waitFor('the informer sees the ConfigMap created after its watch went silent', async () => seen.has('during-blackhole'), 90_000, 500);
    const recoveredMs = Date.now() - silencedAt;
    expect(recoveredMs).toBeGreaterThanOrEqual(29_000); // the Watch's inactivity timeout, nothing sooner
    expect(recoveredMs).toBeLessThan(45_000);
    expect(informer.restarts).toBe(0);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('a list that never answers is given up after listTimeoutMs and retried until the API server answers again', async () => {
    const { kubeConfig, proxy } = await throughProxy();
    await createConfigMap('listed');
    proxy.blackhole({ newConnections: true });
    const { logger, lines } = capturedLogger();
    const { informer, seen } = configMapInformer(kubeConfig, 'list-timeout', logger, 1000);
    const started = informer.start();
    await waitFor('a list given up', async () => lines.some((line) => line.msg === 'watch failed; retrying' && /did not answer within 1000 ms/.test(line.err ?? '')), 20_000);
    expect(informer.hasSynced).toBe(false);

    proxy.heal();
    await started;
    expect(seen.has('listed')).toBe(true);
    expect(informer.restarts).toBeGreaterThan(0);
  });
});
