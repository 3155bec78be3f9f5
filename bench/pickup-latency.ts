/**
 * How long a change in the source takes to reach the target with `ferry run --watch`: notified by
 * Ferry's change trigger (LISTEN/NOTIFY) against polling at an interval.
 *
 *   npx tsx bench/pickup-latency.ts [--samples N] [--poll-interval-ms MS]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runSync } from '../src/connectors/run.js';
import { PostgresChangeFeed } from '../src/connectors/postgres/change-feed.js';
import type { ChangeFeed } from '../src/engine/connector.js';
import { watchLoop } from '../src/engine/watch-loop.js';
import { installChangeTriggers } from '../src/connectors/postgres/triggers.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { createLogger } from '../src/util/logger.js';
import { printRows, row, type ResultRow } from './results.js';
import { exampleSchema, fillChurch, peopleFlow, sql } from './two-way-world.js';

const logger = createLogger({ level: 'silent', pretty: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Inserts `samples` people one at a time and measures until each shows up in the target. */
async function measure(church: string, accounts: string, samples: number, tag: string): Promise<number[]> {
  const source = new pg.Client({ connectionString: church });
  const target = new pg.Client({ connectionString: accounts });
  await source.connect();
  await target.connect();
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      await sleep(100 + Math.floor(Math.random() * 400));
      const mail = `${tag}-${i}@example.org`;
      const started = performance.now();
      await source.query(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Pick', 'Up', $1, 'Member')`, [mail]);
      for (;;) {
        const found = await target.query(`SELECT 1 FROM persons WHERE mail = $1`, [mail]);
        if (found.rowCount) break;
        await sleep(5);
      }
      latencies.push(performance.now() - started);
    }
  } finally {
    await source.end();
    await target.end();
  }
  return latencies;
}

export async function pickupLatencyRows(options: { samples: number; pollIntervalMs: number; log?: (line: string) => void }): Promise<ResultRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const server = await startEmbeddedPostgres({ persistent: false });
  try {
    const [church, accounts, state] = [await ensureDatabase(server.url, 'pick_church'), await ensureDatabase(server.url, 'pick_accounts'), await ensureDatabase(server.url, 'pick_state')];
    await fillChurch(church, 10_000);
    await sql(accounts, exampleSchema('accounts.sql'));
    const spec = peopleFlow('OneWay');
    const run = () => runSync({ flowId: 'bench/pickup', spec, mode: 'Incremental', sourceUrl: church, targetUrl: accounts, stateUrl: state, logger }).then(() => {});
    await runSync({ flowId: 'bench/pickup', spec, mode: 'Full', sourceUrl: church, targetUrl: accounts, stateUrl: state, logger });
    const client = new pg.Client({ connectionString: church });
    await client.connect();
    await installChangeTriggers(client, 'public', ['people']);
    await client.end();

    const watch = async (feed: ChangeFeed | undefined, intervalMs: number, tag: string) => {
      const controller = new AbortController();
      const loop = watchLoop(run, { intervalMs, feeds: feed ? [feed] : [], signal: controller.signal, settleMs: feed ? 5 : 0 });
      try {
        return await measure(church, accounts, options.samples, tag);
      } finally {
        controller.abort();
        await loop;
      }
    };
    log(`pickup bench: ${options.samples} changes with LISTEN/NOTIFY`);
    const feed = await PostgresChangeFeed.listen([church]);
    const notified = await watch(feed, 600_000, 'notify');
    await feed.close();
    log(`pickup bench: ${options.samples} changes polling every ${options.pollIntervalMs} ms`);
    const polled = await watch(undefined, options.pollIntervalMs, 'poll');
    const [n50, n95, p50] = [percentile(notified, 50), percentile(notified, 95), percentile(polled, 50)];
    log(`  LISTEN/NOTIFY p50 ${n50.toFixed(0)} ms, p95 ${n95.toFixed(0)} ms; polling(${options.pollIntervalMs} ms) p50 ${p50.toFixed(0)} ms, p95 ${percentile(polled, 95).toFixed(0)} ms`);
    return [
      row('pickup latency, LISTEN/NOTIFY p50 (ms)', n50, 'ms', p50, `< 1000 ms; baseline: polling every ${options.pollIntervalMs / 1000} s`),
      row('pickup latency, LISTEN/NOTIFY p95 (ms)', n95, 'ms', percentile(polled, 95), '< 1000 ms'),
    ];
  } finally {
    await server.stop();
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({ options: { samples: { type: 'string', default: '20' }, 'poll-interval-ms': { type: 'string', default: '5000' } } });
  printRows(await pickupLatencyRows({ samples: Number(values.samples), pollIntervalMs: Number(values['poll-interval-ms']) }));
}
