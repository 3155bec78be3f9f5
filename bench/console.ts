/**
 * Console benchmark (issue 14): the first page of the Flows list with 200 SyncFlows and 10,000 SyncJobs
 * in the namespace, against a real kube-apiserver, next to a raw list of the same 200 SyncFlows and to
 * `kubectl get syncflows,syncjobs` (what a user without the console would run). The console runs in
 * this process in kubeconfig mode (as `kubectl ferry console` does); the page is fetched over HTTP
 * like a browser's first navigation (session cookie, whole body), cold (first request) and warm.
 *
 *   npm run bench -- --only u     or     npx tsx bench/console.ts [--flows 200] [--runs 10000] [--rounds 7]
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { PAIR_CATEGORIES } from '../src/api/syncflow.js';
import { startLocalConsole } from '../src/console/start.js';
import { flowManifest } from '../test/e2e/fixtures/env.js';
import { startKubeApiServer, type KubeApiServer } from '../test/e2e/harness/kube-apiserver.js';
import { printRows, row, type ResultRow } from './results.js';

const NS = 'bench-console';
const run = promisify(execFile);
const flowName = (i: number) => `flow-${String(i).padStart(3, '0')}`;

export interface ConsoleBenchOptions {
  flows?: number;
  runs?: number;
  rounds?: number;
  log?: (line: string) => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** JSON requests to the API server over a few kept-alive connections (creating 10,000 objects one TLS handshake each is what made the old e2e test take minutes). */
function apiClient(kube: KubeApiServer) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });
  return (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> =>
    new Promise((resolveRequest, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(`${kube.url}${path}`, { method, agent, headers: { authorization: `Bearer ${kube.token}`, accept: 'application/json', ...(payload ? { 'content-type': contentType } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveRequest({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(payload);
    });
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/** 200 flows as the controller leaves them (Ready, last runs, pair counts, every tenth one busy) and 10,000 SyncJobs. */
async function createObjects(kube: KubeApiServer, flows: number, runs: number): Promise<void> {
  const api = apiClient(kube);
  const ok = (what: string) => (r: { status: number; text: string }) => {
    if (r.status >= 300 && r.status !== 409) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  };
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).then(ok('namespace'));
  const base = `/apis/ferry.dev/v1alpha1/namespaces/${NS}`;
  await inParallel([...Array(flows).keys()], 16, async (i) => {
    await api('POST', `${base}/syncflows`, flowManifest(NS, flowName(i))).then(ok(`SyncFlow ${flowName(i)}`));
    const status = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-11-30T08:00:00Z' }],
      history: [1, 2, 3, 4, 5].map((n) => ({ jobName: `${flowName(i)}-run-${n}`, mode: 'Incremental', phase: 'Succeeded', startedAt: '2026-11-30T08:00:00Z', completedAt: '2026-11-30T08:01:00Z' })),
      categories: Object.fromEntries(PAIR_CATEGORIES.map((c, n) => [c, n * 100 + i])),
      ...(i % 10 === 0 ? { activeJob: { name: `${flowName(i)}-run-0` } } : {}),
    };
    await api('PATCH', `${base}/syncflows/${flowName(i)}/status`, { status }, 'application/merge-patch+json').then(ok(`status of ${flowName(i)}`));
  });
  const jobs = [...Array(runs).keys()].map((n) => ({ flow: flowName(n % flows), n: Math.floor(n / flows) }));
  await inParallel(jobs, 32, ({ flow, n }) =>
    api('POST', `${base}/syncjobs`, {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncJob',
      metadata: { name: `${flow}-run-${n}`, namespace: NS, labels: { 'ferry.dev/flow': flow } },
      spec: { flowRef: { name: flow }, mode: 'Incremental' },
    }).then(ok(`SyncJob ${flow}-run-${n}`)),
  );
}

/** One GET over a fresh connection, as a browser's navigation: milliseconds until the whole body is in. */
function timedGet(url: string, headers: Record<string, string>): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now();
  const get = (url.startsWith('https:') ? https.get : http.get) as typeof https.get;
  return new Promise((resolveGet, reject) => {
    get(url, { headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveGet({ ms: performance.now() - started, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

export async function consoleBenchRows(options: ConsoleBenchOptions = {}): Promise<ResultRow[]> {
  const flows = options.flows ?? 200;
  const runs = options.runs ?? 10_000;
  const rounds = options.rounds ?? 7;
  const say = options.log ?? (() => {});
  say('console: starting kube-apiserver + etcd');
  const kube = await startKubeApiServer();
  try {
    let started = performance.now();
    await createObjects(kube, flows, runs);
    say(`console: created ${flows} SyncFlows and ${runs.toLocaleString('en-US')} SyncJobs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const config = new k8s.KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    const consoleServer = await startLocalConsole({ kubeConfig: config, namespace: NS, port: 0, logger: pino({ level: 'silent' }) });
    try {
      const cookie = { cookie: `ferry_console=${consoleServer.server.signInToken}` };
      const pageUrl = `http://127.0.0.1:${consoleServer.port}/`;
      started = performance.now();
      const cold = await timedGet(pageUrl, cookie);
      if (cold.status !== 200 || !cold.body.includes(`${flows} flows, page 1 of`)) throw new Error(`console first page: HTTP ${cold.status} ${cold.body.slice(0, 300)}`);
      const rawList = () => timedGet(`${kube.url}/apis/ferry.dev/v1alpha1/namespaces/${NS}/syncflows`, { authorization: `Bearer ${kube.token}`, accept: 'application/json' });
      const kubectl = async () => {
        const t = performance.now();
        await run('kubectl', ['--kubeconfig', kube.kubeconfigPath, 'get', 'syncflows,syncjobs', '-n', NS, '--no-headers'], { maxBuffer: 64 * 1024 * 1024 });
        return performance.now() - t;
      };
      // Interleaved round by round, so the shared machine's load hits all three alike.
      const samples: { console: number; raw: number; kubectl: number }[] = [];
      const loadBefore = loadavg()[0];
      for (let i = 0; i < rounds; i++) {
        const page = await timedGet(pageUrl, cookie);
        if (page.status !== 200) throw new Error(`console page: HTTP ${page.status}`);
        samples.push({ console: page.ms, raw: (await rawList()).ms, kubectl: await kubectl() });
      }
      const warm = median(samples.map((s) => s.console));
      const raw = median(samples.map((s) => s.raw));
      const kubectlMs = median(samples.map((s) => s.kubectl));
      say(`console: cold ${cold.ms.toFixed(0)} ms, warm median ${warm.toFixed(0)} ms; raw list of ${flows} SyncFlows ${raw.toFixed(0)} ms; kubectl get syncflows,syncjobs ${kubectlMs.toFixed(0)} ms; ${(cold.body.length / 1024).toFixed(0)} KB; load ${loadBefore.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);
      return [
        row(`u. console first page, cold (${flows} flows, ${runs.toLocaleString('en-US')} runs) vs raw list of the flows`, cold.ms, 'ms', raw, '< 1000 ms'),
        row(`u. console first page, warm median of ${rounds} vs raw list of the flows`, warm, 'ms', raw, '< 1000 ms'),
        row(`u. console first page, warm median vs kubectl get syncflows,syncjobs`, warm, 'ms', kubectlMs, '< 1000 ms, below kubectl'),
      ];
    } finally {
      await consoleServer.stop();
    }
  } finally {
    await kube.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { flows: { type: 'string', default: '200' }, runs: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '7' } } });
  const log = (line: string) => process.stderr.write(`[bench console ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  consoleBenchRows({ flows: Number(values.flows), runs: Number(values.runs), rounds: Number(values.rounds), log }).then(
    (rows) => {
      printRows(rows);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(2);
    },
  );
}
