/**
 * The HTTP connector against a real WordPress (Debian's package on `php -S`, over a private mariadbd):
 *
 *   npx tsx bench/wordpress.ts [--events 2000] [--list 100000] [--wp-list 5000] [--concurrency 4] [--runner dist|tsx]
 *
 * w1 an initial Full of N events into WordPress posts, against a plain script that POSTs the same
 *    bodies one by one with the same concurrency (the baseline, into the same empty post type);
 * w2 a no-change Full: its time, its write requests (aim 0) and its per-record GETs (aim 0);
 * w3 peak RSS of a Full (HTTP source -> PostgreSQL) listing posts seeded straight into WordPress's
 *    tables with SQL (WordPress creates only ~25 posts a second through its API, and lists ~100 a
 *    second on these machines), and listing 10,000 and 100,000 records from a local page server that
 *    answers like WordPress, to show memory does not grow with size: once with no memory budget (V8
 *    sizes its heap from the machine) and once under a sync Job's default budget (FERRY_MEMORY_LIMIT=1Gi).
 * Requests of w1/w2 and the baseline go through the tests' fault-injecting proxy with no fault
 * scripted: it only counts them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { stringify } from 'yaml';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { startFaultProxy, type FaultProxy } from '../test/helpers/fault-proxy.js';
import { startMariaDb } from '../test/helpers/mariadb-server.js';
import { eventsToWordPress, extraEventMetaPlugin, wordpressToTable } from '../test/helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../test/helpers/wordpress-server.js';
import { prepareEngine, runFerry, type Engine, type FerryRun, type Runner } from './ferry-process.js';
import { startPageServer } from './page-server.js';
import { printRows, row, type ResultRow } from './results.js';

export interface WordPressBenchOptions {
  events: number;
  /** Records of the page-server listing (w3); a tenth of it is listed too, to show memory does not grow. */
  list: number;
  /** Posts seeded into WordPress with SQL and listed from it (w3); 0 skips it. */
  wpList: number;
  concurrency: number;
  runner: Runner;
  ref?: string;
  log?: (line: string) => void;
}

const seconds = (ms: number) => ms / 1000;
const load = () => `load ${loadavg()[0].toFixed(1)}`;

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** N events with the columns the events -> ferry_event flow maps (tests' eventsToWordPress). */
async function createEvents(url: string, n: number): Promise<void> {
  await sql(
    url,
    `CREATE TABLE events (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL, description text,
       starts_at timestamptz, ends_at timestamptz, event_status_id bigint, capacity integer, location text, price numeric(10,2),
       updated_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO events (id, code, title, description, starts_at, ends_at, event_status_id, capacity, location, price)
     SELECT i, 'EV-' || lpad(i::text, 6, '0'), 'Event ' || i, 'About event ' || i || repeat(' and more', i % 20),
            timestamptz '2027-01-01 18:00Z' + i * interval '3 hours', timestamptz '2027-01-01 21:00Z' + i * interval '3 hours',
            1 + i % 4, CASE WHEN i % 7 = 0 THEN NULL ELSE 10 + i % 90 END, 'Room ' || (i % 12), (i % 50) + 0.5
     FROM generate_series(1, ${n}) i`,
  );
}

/** The same body Ferry sends for an event (title, content, the registered meta; unset values left out). */
async function baselineBodies(url: string): Promise<Record<string, unknown>[]> {
  const { rows } = await sql(url, `SELECT code, title, description, starts_at, ends_at, event_status_id::text AS status, capacity, location, price::float8 AS price FROM events ORDER BY id`);
  return rows.map((r) => {
    const meta: Record<string, unknown> = {
      event_code: r.code,
      event_start: (r.starts_at as Date).toISOString(),
      event_end: (r.ends_at as Date).toISOString(),
      event_status: r.status,
      location: r.location,
      price: r.price,
    };
    if (r.capacity !== null) meta.capacity = r.capacity;
    return { title: r.title, content: r.description, meta };
  });
}

/** The baseline: a plain script POSTing each body, `concurrency` at a time. */
async function postOneByOne(wp: RunningWordPress, origin: string, bodies: Record<string, unknown>[], concurrency: number): Promise<number> {
  const auth = `Basic ${Buffer.from(`${wp.username}:${wp.applicationPassword}`).toString('base64')}`;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${origin}/wp-json/wp/v2/${EVENT_POST_TYPE}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) throw new Error(`baseline POST: ${response.status} ${(await response.text()).slice(0, 200)}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

async function mariaSql(url: string, text: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    await connection.query(text);
  } finally {
    await connection.end();
  }
}

const clearEvents = (wp: RunningWordPress) =>
  mariaSql(wp.mysql.url, `DELETE m FROM wp_postmeta m JOIN wp_posts p ON p.ID = m.post_id WHERE p.post_type = '${EVENT_POST_TYPE}'; DELETE FROM wp_posts WHERE post_type = '${EVENT_POST_TYPE}';`);

/** Adds posts `from`..`to` straight into WordPress's tables (a published ferry_event with an event_code meta each). */
async function seedPosts(wp: RunningWordPress, from: number, to: number): Promise<void> {
  await mariaSql(
    wp.mysql.url,
    `INSERT INTO wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, comment_status, ping_status,
       post_password, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_parent, guid, menu_order, post_type, post_mime_type, comment_count)
     SELECT 1, NOW(), UTC_TIMESTAMP(), CONCAT('Seeded event ', seq, ' with a paragraph of text.'), CONCAT('Seeded event ', seq), '', 'publish', 'closed', 'closed',
       '', CONCAT('seeded-', seq), '', '', NOW(), UTC_TIMESTAMP(), '', 0, '', 0, '${EVENT_POST_TYPE}', '', 0
     FROM seq_${from}_to_${to};
     INSERT INTO wp_postmeta (post_id, meta_key, meta_value)
     SELECT ID, 'event_code', CONCAT('SEED-', ID) FROM wp_posts p WHERE post_type = '${EVENT_POST_TYPE}'
       AND NOT EXISTS (SELECT 1 FROM wp_postmeta m WHERE m.post_id = p.ID AND m.meta_key = 'event_code');`,
  );
}

/** WordPress ferry_event posts -> a PostgreSQL table (the listing side of w3). */
function listingFlow(origin: string): SyncFlowSpec {
  return wordpressToTable(origin, ['title', 'status', 'event_code', 'modified']);
}

function manifests(dir: string, spec: SyncFlowSpec, wp: RunningWordPress, pgSecret: { name: string; url: string }): string {
  mkdirSync(dir, { recursive: true });
  const documents = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'website' }, spec },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: pgSecret.name }, stringData: { url: pgSecret.url } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wordpress' }, stringData: { username: wp.username, password: wp.applicationPassword } },
  ];
  writeFileSync(join(dir, 'flow.yaml'), documents.map((d) => stringify(d)).join('---\n'));
  return dir;
}

/** The memory limit of a sync Job with the Helm chart's defaults (charts/ferry/values.yaml jobs.resources). */
const JOB_MEMORY_LIMIT = '1Gi';

/** Runs `step` with FERRY_MEMORY_LIMIT set for the ferry child processes it starts (unset when `budget` is undefined). */
async function withMemoryLimit<T>(budget: string | undefined, step: () => Promise<T>): Promise<T> {
  const before = process.env.FERRY_MEMORY_LIMIT;
  if (budget === undefined) delete process.env.FERRY_MEMORY_LIMIT;
  else process.env.FERRY_MEMORY_LIMIT = budget;
  try {
    return await step();
  } finally {
    if (before === undefined) delete process.env.FERRY_MEMORY_LIMIT;
    else process.env.FERRY_MEMORY_LIMIT = before;
  }
}

const written = (run: FerryRun) => run.report.totals.created + run.report.totals.updated + run.report.totals.archived + run.report.totals.deleted;

export async function wordpressBenchRows(options: WordPressBenchOptions): Promise<ResultRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[bench-wp ${new Date().toISOString().slice(11, 19)}] ${line}\n`));
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-wp-'));
  let engine: Engine | undefined;
  let proxy: FaultProxy | undefined;
  let wp: RunningWordPress | undefined;
  const maria = await startMariaDb();
  const server = await startEmbeddedPostgres({ persistent: false });
  try {
    engine = prepareEngine(options.runner, options.ref);
    const wpDb = new URL(maria.url);
    wpDb.pathname = '/wp_bench';
    await mariaSql(maria.url, 'CREATE DATABASE wp_bench CHARACTER SET utf8mb4');
    wp = await startWordPress({ mysqlUrl: wpDb.toString(), extraPlugin: extraEventMetaPlugin(), workers: options.concurrency });
    proxy = await startFaultProxy(wp.siteUrl);
    log(`WordPress up in ${wp.startMs} ms; ${options.events} events, ${options.concurrency} in flight on both sides`);
    const source = await ensureDatabase(server.url, 'bench_events');
    await createEvents(source, options.events);
    const rows: ResultRow[] = [];

    const bodies = await baselineBodies(source);
    const baselineMs = await postOneByOne(wp, proxy.origin, bodies, options.concurrency);
    const baselineRequests = proxy.requests.length;
    log(`baseline: ${bodies.length} POSTs in ${seconds(baselineMs).toFixed(1)} s (${baselineRequests} requests, ${load()})`);
    await clearEvents(wp);
    proxy.reset();

    const spec = eventsToWordPress(proxy.origin);
    (spec.target as { http: { limits: { maxInFlight: number } } }).http.limits.maxInFlight = options.concurrency;
    const dir = manifests(join(work, 'events'), spec, wp, { name: 'association', url: source });
    const state = await ensureDatabase(server.url, 'bench_state_events');
    const ferry = (label: string, manifestDir: string, stateUrl: string) =>
      runFerry(engine!, { manifests: manifestDir, mode: 'Full', stateUrl, log: join(work, `${label}.log`) });

    const full = await ferry('initial-full', dir, state);
    const fullRequests = proxy.requests.length;
    log(`ferry initial Full: ${seconds(full.wallMs).toFixed(1)} s, created ${full.report.totals.created}, rejected ${full.report.totals.rejected}, ${fullRequests} requests, peak RSS ${full.peakRssMb.toFixed(0)} MB (${load()})`);
    if (full.report.totals.created !== options.events) throw new Error(`the initial Full created ${full.report.totals.created} of ${options.events} events`);
    rows.push(row(`w1. initial Full of ${options.events} events into WordPress (ferry / POST one by one)`, seconds(full.wallMs), 's', seconds(baselineMs), '<= 1.2x'));
    rows.push(row('w1. HTTP requests per record, initial Full (ferry / baseline)', fullRequests / options.events, 'req/record', baselineRequests / options.events, '~1'));

    proxy.reset();
    const again = await ferry('no-change-full', dir, state);
    const writes = proxy.requests.filter((r) => r.method !== 'GET').length;
    const perRecordGets = proxy.requests.filter((r) => r.method === 'GET' && new RegExp(`/${EVENT_POST_TYPE}/\\d+`).test(r.path)).length;
    log(`ferry no-change Full: ${seconds(again.wallMs).toFixed(1)} s, written ${written(again)}, ${proxy.requests.length} requests (${writes} writes, ${perRecordGets} per-record GETs) (${load()})`);
    rows.push(row('w2. no-change Full (vs the initial Full)', seconds(again.wallMs), 's', seconds(full.wallMs), '—'));
    rows.push(row('w2. write requests of the no-change Full', writes, 'requests', null, '== 0'));
    rows.push(row('w2. per-record GETs of the no-change Full', perRecordGets, 'requests', null, '== 0'));
    rows.push(row('w2. list requests of the no-change Full', proxy.requests.length - writes - perRecordGets, 'requests', null, 'list pages only'));
    if (writes !== 0 || written(again) !== 0) process.exitCode = 1;

    await clearEvents(wp);
    const listing = async (label: string, origin: string, size: number): Promise<FerryRun> => {
      const target = await ensureDatabase(server.url, `bench_${label}`);
      await sql(target, `CREATE TABLE website_events (post_id bigint PRIMARY KEY, title text, status text, event_code text, modified timestamptz)`);
      const listDir = manifests(join(work, label), listingFlow(origin), wp!, { name: 'warehouse', url: target });
      const run = await ferry(label, listDir, await ensureDatabase(server.url, `bench_state_${label}`));
      log(`ferry Full listing ${size} records (${label}): ${seconds(run.wallMs).toFixed(1)} s, read ${run.report.totals.read}, peak RSS ${run.peakRssMb.toFixed(0)} MB (${load()})`);
      if (run.report.totals.read !== size) throw new Error(`the listing Full read ${run.report.totals.read} of ${size} records`);
      return run;
    };
    if (options.wpList > 0) {
      const seeding = performance.now();
      await seedPosts(wp, 1, options.wpList);
      log(`seeded WordPress with ${options.wpList} posts with SQL in ${seconds(performance.now() - seeding).toFixed(1)} s`);
      const run = await listing(`wp_list_${options.wpList}`, wp.siteUrl, options.wpList);
      rows.push(row(`w3. Full listing ${options.wpList} posts seeded into WordPress: peak RSS`, run.peakRssMb, 'MB', null, '<= 300 MB'));
      rows.push(row(`w3. Full listing ${options.wpList} posts seeded into WordPress: wall time`, seconds(run.wallMs), 's', null, '—'));
    }
    const tenth = Math.max(1, Math.floor(options.list / 10));
    // Without a budget V8 sizes its heap from this machine's memory (on Node 24 a young generation of
    // up to 3 x 64 MiB, and old space let grow to ~4x what is live); a sync Job always has one (the
    // chart's default memory limit is 1Gi: --max-old-space-size=768 --max-semi-space-size=16).
    for (const budget of [undefined, JOB_MEMORY_LIMIT]) {
      const rss: number[] = [];
      for (const size of [tenth, options.list]) {
        const pages = await startPageServer(size);
        try {
          const label = `pages_${size}${budget ? '_budget' : ''}`;
          rss.push((await withMemoryLimit(budget, () => listing(label, pages.baseUrl, size))).peakRssMb);
        } finally {
          await pages.close();
        }
      }
      const under = budget ? `, FERRY_MEMORY_LIMIT=${budget} (a sync Job's default)` : ', no memory budget';
      rows.push(row(`w3. peak RSS of a Full listing ${tenth} records from a local page server${under}`, rss[0], 'MB', null, '<= 300 MB'));
      rows.push(row(`w3. peak RSS of a Full listing ${options.list} records from a local page server${under} (vs ${tenth})`, rss[1], 'MB', rss[0], '<= 300 MB, flat'));
    }
    return rows;
  } finally {
    await proxy?.close();
    await wp?.close();
    await server.stop();
    await maria.stop();
    engine?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '2000' },
      list: { type: 'string', default: '100000' },
      'wp-list': { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '4' },
      runner: { type: 'string', default: 'dist' },
      ref: { type: 'string' },
    },
  });
  const rows = await wordpressBenchRows({
    events: Number(values.events),
    list: Number(values.list),
    wpList: Number(values['wp-list']),
    concurrency: Number(values.concurrency),
    runner: values.runner as Runner,
    ...(values.ref ? { ref: values.ref } : {}),
  });
  printRows(rows);
  process.exit(process.exitCode ?? 0);
}
