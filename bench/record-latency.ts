/**
 * Record-sync latency: `npx tsx bench/record-latency.ts [--people N] [--samples S]`.
 *
 * Generates the association demo, runs one Full sync into the empty website, then syncs S people
 * one at a time in Record mode (each after a change to that person), in process through the same
 * `runSync` as `ferry run`. Reports p50/p95 of the whole run (connect, lock, closure, writes,
 * report) against an Incremental run that picks up one changed person, which is what a user would
 * otherwise start. `recordLatencyRows` is the entry point for `npm run bench`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import { type RunRequest } from '../src/engine/run.js';
import { runSync } from '../src/connectors/run.js';
import type { RunReport } from '../src/engine/report.js';
import { createLogger } from '../src/util/logger.js';
import { checkpoint, createDataset, startServers, type Dataset, type Servers } from './databases.js';
import { readFlow } from './ferry-process.js';
import { printPairs, printRows, row, type ResultRow } from './results.js';

export interface RecordLatencyOptions {
  /** People synced one by one (default 100). */
  samples?: number;
  /** Progress lines (default: none). */
  say?: (line: string) => void;
}

export interface RecordLatencyResult {
  rows: ResultRow[];
  details: [string, string][];
}

const CHANGED_AT = '2030-01-01 00:00:00+00';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Spread evenly over the people (deterministic), so the sample is not just the first ids. */
async function samplePeople(sourceUrl: string, count: number): Promise<string[]> {
  return withClient(sourceUrl, async (client) => {
    const result = await client.query(
      `SELECT min(id)::text AS id FROM (SELECT id, ntile($1) OVER (ORDER BY id) AS bucket FROM people) b GROUP BY bucket ORDER BY min(id)`,
      [count],
    );
    return result.rows.map((r) => r.id);
  });
}

async function touchPerson(sourceUrl: string, id: string, step: number): Promise<void> {
  await withClient(sourceUrl, (client) =>
    client.query(`UPDATE people SET phone = $2, updated_at = $3::timestamptz + $4 * INTERVAL '1 second' WHERE id = $1`, [id, `+1 555 01${String(step).padStart(4, '0')}`, CHANGED_AT, step]),
  );
}

/**
 * Measures Record-sync latency on a dataset whose target is still empty: one Full sync first, then
 * `samples` Record runs. Returns rows for bench/results.json and per-step details.
 */
export async function recordLatencyRows(servers: Servers, data: Dataset, spec: SyncFlowSpec, options: RecordLatencyOptions = {}): Promise<RecordLatencyResult> {
  const samples = options.samples ?? 100;
  const say = options.say ?? (() => {});
  const logger = createLogger({ level: 'silent', pretty: false });
  const base: Omit<RunRequest, 'mode'> = {
    flowId: 'bench/record-latency',
    spec,
    sourceUrl: data.source,
    targetUrl: data.target,
    stateUrl: data.state,
    logger,
  };

  say('Full sync into the empty website');
  let t = performance.now();
  const full = await runSync({ ...base, mode: 'Full' });
  say(`  ${((performance.now() - t) / 1000).toFixed(1)} s, ${full.totals.created.toLocaleString('en-US')} rows created`);
  await checkpoint(servers);

  const people = await samplePeople(data.source, samples);
  say(`Record sync of ${people.length} people, one at a time`);
  // One warm-up run, not counted: the first run pays for loading modules and the state DB migration check.
  await touchPerson(data.source, people[0], 0);
  await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: people[0] } });

  const latencies: number[] = [];
  let closureRows = 0;
  let closureEntities = 0;
  let written = 0;
  let rejected = 0;
  for (const [i, id] of people.entries()) {
    await touchPerson(data.source, id, i + 1);
    t = performance.now();
    const report: RunReport = await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: id } });
    latencies.push(performance.now() - t);
    closureRows += report.totals.read;
    closureEntities += report.entities.length;
    written += report.totals.updated + report.totals.created;
    rejected += report.totals.rejected;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p95 = percentile(sorted, 95);

  say('Incremental sync of one changed person (the alternative)');
  const incrementalTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    await touchPerson(data.source, people[i], samples + i + 1);
    t = performance.now();
    await runSync({ ...base, mode: 'Incremental' });
    incrementalTimes.push(performance.now() - t);
  }
  const incremental = [...incrementalTimes].sort((a, b) => a - b)[1];

  const label = `${data.people.toLocaleString('en-US')} people`;
  return {
    rows: [
      row(`Record sync of one person, p50 (${label})`, p50, 'ms', incremental, 'sub-second; baseline: Incremental run for one changed person'),
      row(`Record sync of one person, p95 (${label})`, p95, 'ms', incremental, 'sub-second; baseline: Incremental run for one changed person'),
    ],
    details: [
      ['people synced', String(people.length)],
      ['p50 / p95 / max', `${p50.toFixed(0)} / ${p95.toFixed(0)} / ${sorted[sorted.length - 1].toFixed(0)} ms`],
      ['closure per person (avg)', `${(closureRows / people.length).toFixed(1)} rows in ${(closureEntities / people.length).toFixed(1)} tables`],
      ['rows written (all runs)', `${written} (rejected ${rejected})`],
      ['Incremental, one changed person (median of 3)', `${incremental.toFixed(0)} ms`],
    ],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { people: { type: 'string', default: '10000' }, samples: { type: 'string', default: '100' } } });
  const people = Number(values.people.replace(/_/g, ''));
  const samples = Number(values.samples);
  if (!Number.isInteger(people) || people < 1) throw new Error(`--people must be a positive whole number, got ${values.people}`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a positive whole number, got ${values.samples}`);
  const say = (line: string) => process.stderr.write(`[record-latency ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

  say('starting two embedded PostgreSQL servers (business: source + target; state)');
  const servers = await startServers();
  try {
    say(`generating association with ${people.toLocaleString('en-US')} people`);
    const data = await createDataset(servers, people, '_record', false);
    const result = await recordLatencyRows(servers, data, readFlow().flow.spec, { samples, say });
    printRows(result.rows);
    printPairs('Record latency', result.details);
  } finally {
    await servers.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
