/**
 * Controller benchmark against a real kube-apiserver (test/e2e/harness):
 *  - SyncJob-created -> Job-created latency, p50/p99 over N SyncJobs (one per flow, created at a steady pace);
 *  - reconcile throughput (SyncJobs admitted per second from a cold start) and the controller's RSS with
 *    F SyncFlows and J SyncJobs in the apiserver.
 * The controller runs as a child process (`ferry controller`), as in a cluster; no job runner, so Jobs stay pending.
 * Standalone: `npx tsx bench/controller.ts [--latency 200] [--flows 1000] [--jobs 5000]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Kube, isStatus } from '../src/controller/kube.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { freePort, startKubeApiServer } from '../test/e2e/harness/kube-apiserver.js';
import { prepareEngine, type Engine, type Runner } from './ferry-process.js';
import { printRows, row, type ResultRow } from './results.js';

const say = (line: string) => process.stderr.write(`[bench controller ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export interface ControllerBenchOptions {
  latencyJobs?: number;
  flows?: number;
  jobs?: number;
  /** dist (default): the compiled controller, as in the image; tsx: src/ through tsx. */
  runner?: Runner;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function rssMb(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) / 1024 : NaN;
}

function flowBody(namespace: string, name: string) {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name, namespace },
    spec: {
      direction: 'OneWay',
      source: { postgres: { secretRef: { name: 'src' } } },
      target: { postgres: { secretRef: { name: 'dst' } } },
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 100,
      failedJobsHistoryLimit: 100,
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
          target: { table: 'people', keys: ['id'] },
          fields: [{ source: 'name', target: 'name' }],
        },
      ],
    },
  };
}

const jobBody = (namespace: string, name: string, flow: string) => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncJob',
  metadata: { name, namespace },
  spec: { flowRef: { name: flow }, mode: 'Incremental' },
});

/** Creates objects with bounded concurrency (the apiserver is shared with the controller under test). */
async function createAll<T>(items: T[], create: (item: T) => Promise<unknown>, concurrency = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        for (let attempt = 0; ; attempt++) {
          try {
            await create(item);
            break;
          } catch (error) {
            if (isStatus(error, 409)) break;
            if (attempt > 5) throw error;
            await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
          }
        }
      }
    }),
  );
}

async function startControllerProcess(engine: Engine, kubeconfigPath: string, stateUrl: string, namespace: string): Promise<{ child: ChildProcess; healthPort: number }> {
  const healthPort = await freePort();
  const child = spawn(
    process.execPath,
    [engine.cli, 'controller', '--kubeconfig', kubeconfigPath, '--state-db-url', stateUrl, '--image', 'ferry:bench', '--namespace', namespace, '--health-port', String(healthPort), '--no-leader-elect', '--workers', '8'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } },
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) return { child, healthPort };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('controller did not become ready');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function benchController(options: ControllerBenchOptions = {}): Promise<ResultRow[]> {
  const latencyJobs = options.latencyJobs ?? 200;
  const flows = options.flows ?? 1000;
  const jobs = options.jobs ?? 5000;
  const rows: ResultRow[] = [];
  const engine = prepareEngine(options.runner ?? 'dist');
  say(`controller runs ${engine.runner === 'dist' ? 'compiled (dist/)' : 'from src/ through tsx'}`);
  say('starting kube-apiserver + etcd and embedded PostgreSQL');
  const [kubeServer, postgres] = await Promise.all([startKubeApiServer(), startEmbeddedPostgres({ persistent: false })]);
  const kube = Kube.fromDefault(kubeServer.kubeconfigPath);
  try {
    // 1. Latency: SyncJob created -> Job created, one SyncJob per flow at a steady pace.
    const ns1 = 'bench-latency';
    await kube.core.createNamespace({ body: { metadata: { name: ns1 } } });
    await createAll(Array.from({ length: latencyJobs }, (_, i) => `flow-${i}`), (name) => kube.create('SyncFlow', flowBody(ns1, name) as never));
    const controller = await startControllerProcess(engine, kubeServer.kubeconfigPath, postgres.url, ns1);
    const jobSeen = new Map<string, number>();
    const watch = await new k8s.Watch(kube.config).watch(kube.path('Job', ns1), {}, (type, object) => {
      if (type === 'ADDED') jobSeen.set(object.metadata.name, performance.now());
    }, () => {});
    await new Promise((r) => setTimeout(r, 2000)); // let the controller settle on the flows
    const created = new Map<string, number>();
    say(`latency: creating ${latencyJobs} SyncJobs, 10 per second`);
    for (let i = 0; i < latencyJobs; i++) {
      const name = `job-${i}`;
      await kube.create('SyncJob', jobBody(ns1, name, `flow-${i}`) as never);
      created.set(name, performance.now());
      await new Promise((r) => setTimeout(r, 100));
    }
    const deadline = Date.now() + 60_000;
    while (jobSeen.size < latencyJobs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    watch.abort();
    const latencies = [...created].filter(([name]) => jobSeen.has(name)).map(([name, t]) => jobSeen.get(name)! - t);
    if (latencies.length < latencyJobs) say(`only ${latencies.length}/${latencyJobs} Jobs appeared`);
    rows.push(row(`controller: SyncJob -> Job latency p50 (${latencyJobs} SyncJobs)`, percentile(latencies, 50), 'ms', null, 'p99 < 1000 ms'));
    rows.push(row(`controller: SyncJob -> Job latency p99 (${latencyJobs} SyncJobs)`, percentile(latencies, 99), 'ms', null, '< 1000 ms'));
    await stopProcess(controller.child);

    // 2. Scale: F flows, J SyncJobs created before the controller starts; time until all are admitted.
    const ns2 = 'bench-scale';
    await kube.core.createNamespace({ body: { metadata: { name: ns2 } } });
    say(`scale: creating ${flows} SyncFlows and ${jobs} SyncJobs`);
    await createAll(Array.from({ length: flows }, (_, i) => `flow-${i}`), (name) => kube.create('SyncFlow', flowBody(ns2, name) as never));
    await createAll(Array.from({ length: jobs }, (_, i) => i), (i) => kube.create('SyncJob', jobBody(ns2, `job-${i}`, `flow-${i % flows}`) as never));
    const started = performance.now();
    const scaled = await startControllerProcess(engine, kubeServer.kubeconfigPath, postgres.url, ns2);
    let admitted = 0;
    let peakRss = 0;
    const scaleDeadline = Date.now() + 5 * 60_000;
    while (Date.now() < scaleDeadline) {
      peakRss = Math.max(peakRss, rssMb(scaled.child.pid!));
      const list = (await kube.list<{ status?: { phase?: string } }>('SyncJob', ns2)).items;
      admitted = list.filter((j) => j.status?.phase && j.status.phase !== 'Pending').length;
      if (admitted >= jobs) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const elapsedS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const settledRss = rssMb(scaled.child.pid!);
    peakRss = Math.max(peakRss, settledRss);
    const metrics = await (await fetch(`http://127.0.0.1:${scaled.healthPort}/metrics`)).text();
    const reconciles = [...metrics.matchAll(/ferry_reconciles_total\{kind="[^"]+",result="success"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    await stopProcess(scaled.child);
    rows.push(row(`controller: SyncJobs admitted per second (${flows} flows, ${jobs} SyncJobs, cold start)`, admitted / elapsedS, 'jobs/s', null, '—'));
    rows.push(row(`controller: reconciles per second (${flows} flows, ${jobs} SyncJobs)`, reconciles / elapsedS, 'reconciles/s', null, '—'));
    rows.push(row(`controller: peak RSS (${flows} flows, ${jobs} SyncJobs)`, peakRss, 'MB', null, '<= 256 MB'));
    rows.push(row(`controller: settled RSS (${flows} flows, ${jobs} SyncJobs)`, settledRss, 'MB', null, '<= 256 MB'));
    return rows;
  } finally {
    await kubeServer.stop();
    await postgres.stop();
    engine.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      latency: { type: 'string', default: '200' },
      flows: { type: 'string', default: '1000' },
      jobs: { type: 'string', default: '5000' },
      runner: { type: 'string', default: 'dist' },
    },
  });
  if (values.runner !== 'dist' && values.runner !== 'tsx') throw new Error(`--runner is dist or tsx, got ${values.runner}`);
  const rows = await benchController({ latencyJobs: Number(values.latency), flows: Number(values.flows), jobs: Number(values.jobs), runner: values.runner });
  printRows(rows);
}
