/**
 * Data API benchmark (issue 13): `kubectl get pairs` pages over 100,000 pairs with limit=500 through
 * a real kube-apiserver's aggregation layer (p95 per page, and the data API process's RSS while a
 * client pages through all of them), and a 100 MB export file download compared with reading the
 * same bytes from the state database with psql.
 *
 *   KUBEBUILDER_ASSETS=... npx tsx bench/data-api.ts [--pairs 100000] [--mb 100] [--rounds 5]
 *
 * The data API runs as its own process (`ferry data-api`), as in a cluster.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { openStateStore } from '../src/store/db.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { createServingPki } from '../test/e2e/fixtures/data-api.js';
import { freePort, startKubeApiServer } from '../test/e2e/harness/kube-apiserver.js';
import { psqlBinary } from './baseline.js';

const { values: args } = parseArgs({ options: { pairs: { type: 'string', default: '100000' }, mb: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } } });
const PAIRS = Number(args.pairs);
const MB = Number(args.mb);
const ROUNDS = Number(args.rounds);
const NS = 'bench';
const repo = join(import.meta.dirname, '..');

const median = (values: number[]) => percentile(values, 50);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function get(url: string, token: string, onData?: (chunk: Buffer) => void): Promise<{ status: number; body: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (onData) onData(chunk);
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), bytes }));
      })
      .on('error', reject);
  });
}

const pgServer = await startEmbeddedPostgres({ persistent: false });
const viewerToken = randomBytes(24).toString('hex');
const kube = await startKubeApiServer({ users: { [viewerToken]: 'bench-viewer' } });
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-data-api-'));
let child: ReturnType<typeof spawn> | undefined;
try {
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_state');
  await admin.end();
  const stateUrl = new URL(pgServer.url);
  stateUrl.pathname = '/bench_state';
  const store = await openStateStore(stateUrl.toString());
  const db = store.pool;
  const key = (expr: string) => `'p' || lpad((${expr})::text, 19, '0')`;
  await db.query(
    `INSERT INTO ferry.pairs (scope, source_key, target_key, category)
     SELECT (SELECT ferry.pair_scope('${NS}/members', 'people')), ${key('g')}, ${key('g + 1000000')}, CASE WHEN g % 100 = 0 THEN 'conflict' ELSE 'synchronised' END
       FROM generate_series(1, $1) g`,
    [PAIRS],
  );
  await db.query(
    `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, source_value, target_value, run_id)
     SELECT '${NS}/members', 'people', ${key('g')}, 'email', 'mail', 0, 'a' || g || '@example.org', 'b' || g || '@example.org', 'bench'
       FROM generate_series(100, $1, 100) g`,
    [PAIRS],
  );
  // A 100 MB archived file in 1 MiB chunks, as the export archive stores it.
  const hash = createHash('sha256');
  await db.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('bench-run', '${NS}/loyalty', 'Full', 'Succeeded')`);
  await db.query(
    `INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location) VALUES ('bench-file', 'bench-run', '${NS}/loyalty', 'members', 1, 'members.csv.gz', 0, $1, '', 'db')`,
    [MB * 1024 * 1024],
  );
  for (let seq = 0; seq < MB; seq++) {
    const chunk = randomBytes(1024 * 1024);
    hash.update(chunk);
    await db.query(`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ('bench-file', $1, $2)`, [seq, chunk]);
  }
  const fileSha256 = hash.digest('hex');
  await db.query(`UPDATE ferry.export_files SET sha256 = $1 WHERE id = 'bench-file'`, [fileSha256]);
  await db.query('ANALYZE');
  await store.close();

  // The data API as its own process, registered like the e2e suite does (ExternalName Service `localhost`).
  const serving = createServingPki(dir);
  const port = await freePort();
  child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'data-api', '--kubeconfig', kube.kubeconfigPath, '--state-db-url', stateUrl.toString(),
    '--tls-cert-file', serving.certPath, '--tls-private-key-file', serving.keyPath, '--port', String(port), '--bind-address', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
  const config = new k8s.KubeConfig();
  config.loadFromFile(kube.kubeconfigPath);
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ferry-system' } });
  await objects.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ferry-data-api', namespace: 'ferry-system' }, spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ port }] } } as k8s.KubernetesObject);
  await objects.create({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1alpha1.data.ferry.dev' },
    spec: { group: 'data.ferry.dev', version: 'v1alpha1', service: { namespace: 'ferry-system', name: 'ferry-data-api', port }, caBundle: Buffer.from(serving.caCert).toString('base64'), groupPriorityMinimum: 1000, versionPriority: 15 } } as k8s.KubernetesObject);
  // A user with ferry-view-like rights only (not system:masters): every request is authorised by a
  // SubjectAccessReview (cached for 10 s), as for real users. Downloads also need exportfiles/download.
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await objects.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'bench-data' },
    rules: [{ apiGroups: ['data.ferry.dev'], resources: ['pairs', 'runs', 'exportfiles', 'exportfiles/download'], verbs: ['get', 'list'] }] } as k8s.KubernetesObject);
  await objects.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'bench-data', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bench-data' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench-viewer' }] } as k8s.KubernetesObject);
  const base = `${kube.url}/apis/data.ferry.dev/v1alpha1/namespaces/${NS}`;
  for (let i = 0; ; i++) {
    if ((await get(`${base}/pairs?limit=1`, viewerToken).catch(() => ({ status: 0 }))).status === 200) break;
    if (i > 240) throw new Error('the data API did not become available');
    await new Promise((r) => setTimeout(r, 500));
  }

  // Page through every pair, as `kubectl get pairs --chunk-size=500` does.
  const pages: number[] = [];
  const rss: number[] = [rssMb(child.pid!)];
  let token: string | undefined;
  let rows = 0;
  do {
    const started = performance.now();
    const page = await get(`${base}/pairs?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`, viewerToken);
    pages.push(performance.now() - started);
    if (page.status !== 200) throw new Error(`page ${pages.length}: HTTP ${page.status} ${page.body.slice(0, 200)}`);
    const table = JSON.parse(page.body) as { rows: unknown[]; metadata: { continue?: string } };
    rows += table.rows.length;
    token = table.metadata.continue || undefined;
    if (pages.length % 10 === 0) rss.push(rssMb(child.pid!));
  } while (token);
  rss.push(rssMb(child.pid!));

  // Downloads through the API server and straight from the data API, against psql reading the same
  // chunks, interleaved round by round so that the machine's load (shared CI cores) hits all alike;
  // medians are reported. The clients only count bytes, as psql writes to /dev/null; the content is
  // checked once, against the recorded SHA-256, before the timed rounds.
  const downloadPath = `/apis/data.ferry.dev/v1alpha1/namespaces/${NS}/exportfiles/bench-file/download`;
  const check = createHash('sha256');
  const first = await get(`${kube.url}${downloadPath}`, viewerToken, (chunk) => check.update(chunk));
  const downloadSha256 = check.digest('hex');
  if (first.bytes !== MB * 1024 * 1024 || downloadSha256 !== fileSha256) throw new Error(`download: ${first.bytes} bytes, HTTP ${first.status}, SHA-256 ${downloadSha256}`);
  // Timed clients are curl, as psql is a C client: a Node.js client spends as much CPU decrypting
  // as the server encrypting, and on 2 shared cores that halved the measured rate.
  const curl = (url: string, args: string[]) => {
    const started = performance.now();
    const bytes = Number(execFileSync('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download}', ...args, url], { encoding: 'utf8' }));
    if (bytes !== MB * 1024 * 1024) throw new Error(`download from ${url}: ${bytes} bytes`);
    return MB / ((performance.now() - started) / 1000);
  };
  // The API server's serving certificate is self-signed (-k); straight to the data API, the front-proxy certificate as the aggregator sends it.
  const throughApiServer = () => curl(`${kube.url}${downloadPath}`, ['-k', '-H', `authorization: Bearer ${viewerToken}`]);
  const direct = () => curl(`https://127.0.0.1:${port}${downloadPath}`, ['--cacert', join(dir, 'ca.crt'), '--cert', kube.frontProxy.clientCertPath, '--key', kube.frontProxy.clientKeyPath,
    '-H', 'x-remote-user: bench-viewer', '-H', 'x-remote-group: system:authenticated']);
  const psql = () => {
    const started = performance.now();
    execFileSync('/bin/bash', ['-c', `"$PSQL" -X -q -d "$URL" -c "COPY (SELECT data FROM ferry.export_file_chunks WHERE file_id = 'bench-file' ORDER BY seq) TO STDOUT (FORMAT binary)" > /dev/null`], {
      env: { ...process.env, PSQL: psqlBinary(), URL: stateUrl.toString() },
    });
    return MB / ((performance.now() - started) / 1000);
  };
  const loadBefore = loadavg()[0];
  const rounds: { psql: number; apiServer: number; direct: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) rounds.push({ psql: psql(), apiServer: throughApiServer(), direct: direct() });
  const medianOf = (key: 'psql' | 'apiServer' | 'direct') => median(rounds.map((r) => r[key]));

  const result = {
    measuredAt: new Date().toISOString(),
    pairs: PAIRS,
    pages: pages.length,
    rows,
    pageMs: { p50: percentile(pages, 50), p95: percentile(pages, 95), max: Math.max(...pages) },
    dataApiRssMb: { first: rss[0], max: Math.max(...rss), last: rss[rss.length - 1] },
    downloadMb: MB,
    downloadRounds: ROUNDS,
    downloadMBps: medianOf('apiServer'),
    directMBps: medianOf('direct'),
    psqlMBps: medianOf('psql'),
    downloadVsPsql: medianOf('apiServer') / medianOf('psql'),
    directVsPsql: medianOf('direct') / medianOf('psql'),
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    downloadSha256,
    downloadRoundsMBps: rounds.map((r) => ({ psql: Math.round(r.psql), apiServer: Math.round(r.apiServer), direct: Math.round(r.direct) })),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(join(repo, 'bench', 'data-api-results.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  child?.kill('SIGTERM');
  await kube.stop();
  await pgServer.stop();
}
