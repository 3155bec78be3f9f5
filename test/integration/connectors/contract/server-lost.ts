import { describe, expect, it } from 'vitest';
import { runSync } from '../../../../src/connectors/run.js';
import type { RunReport } from '../../../../src/engine/report.js';
import { createLogger } from '../../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../../helpers/databases.js';
import { MINI_SOURCE, MINI_TARGET, pairingSpec, testDatabase } from '../../../helpers/pairings.js';
import { startPrivateServer } from './servers.js';
import { CONNECTORS, contractIt, databaseAt, isSql, SQL_CONNECTORS, type SqlKind } from './setup.js';

const logger = createLogger({ level: 'silent', pretty: false });
const PEOPLE = 80_000;
const FAIL_WITHIN_MS = 30_000;
const FIRST_ROWS_WITHIN_MS = 60_000;

/** firms and PEOPLE people in the mini source schema, made by the server itself. */
const SEED: Record<SqlKind, string[]> = {
  postgres: [
    `INSERT INTO firms SELECT i, 'Firm ' || i, timestamptz '2026-01-01' FROM generate_series(1, 50) i`,
    `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1 + i % 50, timestamptz '2026-01-01' + (i / 100) * interval '1 second'
       FROM generate_series(1, ${PEOPLE}) i`,
  ],
  mysql: [
    `INSERT INTO firms SELECT seq, CONCAT('Firm ', seq), '2026-01-01' FROM seq_1_to_50`,
    `INSERT INTO people SELECT seq, CONCAT('P', seq), CONCAT('p', seq, '@example.org'), 'Member', 1 + seq % 50, '2026-01-01' + INTERVAL (seq DIV 100) SECOND
       FROM seq_1_to_${PEOPLE}`,
  ],
};

type How = 'kill' | 'freeze';

/** Runs until settled or `ms` passed; `undefined` means still running. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until the run's first rows have landed in the target, so the server goes away mid-run
 * however fast the machine is (a fixed delay let a quick run finish first).
 */
async function firstRowsLanded(target: Awaited<ReturnType<typeof databaseAt>>, running: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + FIRST_ROWS_WITHIN_MS;
  while (Date.now() < deadline) {
    const [{ n }] = await target.rows(`SELECT count(*) AS n FROM people`);
    if (Number(n) > 0) return;
    if ((await settledWithin(running, 0)) !== undefined) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no row landed in the target within ${FIRST_ROWS_WITHIN_MS} ms`);
}

/**
 * A server that goes away once a large Full run has landed its first rows, on either side of every connector: the run
 * fails within 30 s with one line naming the lost system (no password), is marked Failed, releases
 * the flow lock, and the next run with the server back repairs the target.
 */
export function describeServerLost(how: How): void {
  for (const kind of CONNECTORS.filter((k) => !isSql(k))) {
    describe(`a ${kind} server that is ${how === 'kill' ? 'killed' : 'frozen'} mid-run`, () => contractIt(kind, ['serverProcess'], 'fails the run within 30 s naming the system', () => {}));
  }
  const cases = SQL_CONNECTORS.flatMap((kind) => (['target', 'source'] as const).map((side) => [kind, side] as const));
  describe.each(cases)(`a %s %s server that is ${how === 'kill' ? 'killed' : 'frozen'} mid-run`, (kind, side) => {
    it('fails the run within 30 s naming the system, releases the lock, and the next run repairs the target', { timeout: 180_000 }, async () => {
      const server = await startPrivateServer(kind, `lost_${side}`);
      try {
        const shared = await testDatabase(kind, `lost_other`);
        const [sourceUrl, targetUrl] = side === 'source' ? [server.url, shared.url] : [shared.url, server.url];
        const source = await databaseAt(kind, sourceUrl);
        const target = await databaseAt(kind, targetUrl);
        await source.exec(MINI_SOURCE[kind]);
        for (const statement of SEED[kind]) await source.exec(statement);
        await target.exec(MINI_TARGET[kind]);
        const stateUrl = await freshDatabase('lost_state');
        const flowId = `test/lost-${kind}-${side}-${how}`;
        const request = { flowId, spec: pairingSpec(kind, kind, { batchSize: 500 }), sourceUrl, targetUrl, stateUrl, logger };

        const running = runSync({ ...request, mode: 'Full' });
        running.catch(() => {});
        await firstRowsLanded(target, running);
        const early = await settledWithin(running, 0);
        expect(early, 'the run finished before the server went away: make the source larger').toBeUndefined();
        const lostAt = Date.now();
        if (how === 'kill') server.kill();
        else server.freeze();
        const outcome = await settledWithin(running, FAIL_WITHIN_MS + 5_000);
        const failedAfterMs = Date.now() - lostAt;
        if (how === 'freeze') server.thaw();
        console.log(`${kind} ${side} ${how}: the run failed ${failedAfterMs} ms after the server went away`);
        expect(outcome, `the run still runs ${failedAfterMs} ms after the ${side} server went away`).toBeDefined();
        expect(failedAfterMs).toBeLessThan(FAIL_WITHIN_MS);
        const message = outcome!.error instanceof Error ? outcome!.error.message : String(outcome!.error);
        expect(message).toContain(`the ${side} database`);
        expect(message).not.toContain('\n');
        expect(message).not.toContain(decodeURIComponent(new URL(server.url).password));
        const report = (outcome!.error as { report?: RunReport }).report;
        expect(report?.status).toBe('Failed');

        const runs = await withClient(stateUrl, (c) => c.query(`SELECT status, error FROM ferry.runs WHERE flow = $1`, [flowId]));
        expect(runs.rows).toEqual([{ status: 'Failed', error: message }]);
        const locks = await withClient(stateUrl, (c) => c.query(`SELECT count(*)::int AS n FROM ferry.run_locks WHERE flow = $1`, [flowId]));
        expect(locks.rows[0].n).toBe(0);

        if (how === 'kill') await server.restart();
        const repaired = await runSync({ ...request, mode: 'Full' });
        expect(repaired.status).toBe('Succeeded');
        const people = await target.rows(`SELECT count(*) AS n, count(DISTINCT email) AS emails FROM people`);
        expect(people[0]).toEqual({ n: String(PEOPLE), emails: String(PEOPLE) });
        const again = await runSync({ ...request, mode: 'Full' });
        expect(again.totals.created + again.totals.updated + again.totals.deleted + again.totals.archived).toBe(0);
      } finally {
        await server.stop();
      }
    });
  });
}
