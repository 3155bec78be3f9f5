/**
 * Two-way Full with 1% of rows changed on each side, against a one-way Full of the same data
 * (whose target also drifted by 1%, which one-way Full detects and rewrites).
 *
 *   npx tsx bench/two-way.ts [--people N]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import type { RunReport } from '../src/engine/report.js';
import { runSync } from '../src/connectors/run.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { createLogger } from '../src/util/logger.js';
import { printRows, row, type ResultRow } from './results.js';
import { exampleSchema, fillChurch, peopleFlow, sql } from './two-way-world.js';

const logger = createLogger({ level: 'silent', pretty: false });

interface Systems {
  source: string;
  target: string;
  state: string;
}

async function timed(spec: SyncFlowSpec, flowId: string, dbs: Systems): Promise<{ ms: number; report: RunReport }> {
  const started = performance.now();
  const report = await runSync({ flowId, spec, mode: 'Full', sourceUrl: dbs.source, targetUrl: dbs.target, stateUrl: dbs.state, logger, parallelEntities: 1 });
  return { ms: performance.now() - started, report };
}

export async function twoWayBenchRows(options: { people: number; log?: (line: string) => void }): Promise<ResultRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const server = await startEmbeddedPostgres({ persistent: false });
  try {
    const db = (name: string) => ensureDatabase(server.url, name);
    const church = await db('tw_church');
    const oneWay: Systems = { source: church, target: await db('tw_accounts_oneway'), state: await db('tw_state_oneway') };
    const twoWay: Systems = { source: church, target: await db('tw_accounts_twoway'), state: await db('tw_state_twoway') };
    log(`two-way bench: ${options.people} people`);
    await fillChurch(church, options.people);
    await sql(oneWay.target, exampleSchema('accounts.sql'));
    await sql(twoWay.target, exampleSchema('accounts.sql'));

    const initialOne = await timed(peopleFlow('OneWay'), 'bench/one-way', oneWay);
    const initialTwo = await timed(peopleFlow('TwoWay'), 'bench/two-way', twoWay);
    log(`  initial Full: one-way ${(initialOne.ms / 1000).toFixed(1)} s, two-way ${(initialTwo.ms / 1000).toFixed(1)} s`);

    // 1% changed on each side: church rows (seen by both flows), and 1% of each target (drift / real edits).
    await sql(church, `UPDATE people SET email = 'changed-' || email WHERE id % 100 = 0`);
    for (const target of [oneWay.target, twoWay.target]) await sql(target, `UPDATE persons SET category = 'Changed' WHERE nr % 100 = 50`);

    const one = await timed(peopleFlow('OneWay'), 'bench/one-way', oneWay);
    const two = await timed(peopleFlow('TwoWay'), 'bench/two-way', twoWay);
    const tw = two.report.entities[0].twoWay!;
    log(`  1% each side: one-way ${(one.ms / 1000).toFixed(2)} s (${one.report.totals.updated} updated), two-way ${(two.ms / 1000).toFixed(2)} s (${tw.updatedTarget} -> target, ${tw.updatedSource} -> source)`);
    const expected = Math.floor(options.people / 100);
    if (tw.updatedTarget < expected * 0.9 || tw.updatedSource < expected * 0.9) throw new Error(`two-way bench: expected ~${expected} updates each way, got ${tw.updatedTarget}/${tw.updatedSource}`);
    const label = options.people >= 1000 ? `${Math.round(options.people / 1000)}k` : String(options.people);
    return [
      row(`two-way Full ${label} people, 1% changed on each side (s)`, two.ms / 1000, 's', one.ms / 1000, '<= 2x one-way Full'),
      row(`two-way initial Full ${label} people (s)`, initialTwo.ms / 1000, 's', initialOne.ms / 1000, '<= 2x one-way Full'),
    ];
  } finally {
    await server.stop();
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({ options: { people: { type: 'string', default: '100000' } } });
  printRows(await twoWayBenchRows({ people: Number(values.people) }));
}
