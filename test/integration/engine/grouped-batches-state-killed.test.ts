import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInteger } from '../../../src/engine/keys.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_SOURCE_SQL, MINI_TARGET_SQL, seedMini } from '../../helpers/mini-flow.js';
import { miniManifests, removeMiniManifests } from '../../helpers/mini-manifests.js';
import { startPrivateServer, type PrivateServer } from '../connectors/contract/servers.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
let server: PrivateServer | undefined;
afterAll(async () => {
  await server?.stop();
  removeMiniManifests();
});

const sql = (url: string, text: string) => withClient(url, async (c) => (await c.query(text)).rows);

const PEOPLE = 6000;
const BATCH = 50;
/** People pairs per group of batches sharing one target transaction (GROUP_BATCHES in grouped-batches.ts). */
const GROUP = 16 * BATCH;

type KillPoint = (stateUrl: string, targetUrl: string) => Promise<number>;

/** Polls `count` every few milliseconds until `ready` holds for what it returns; returns that. */
async function pollUntil(url: string, count: string, ready: (n: number) => boolean): Promise<number> {
  return withClient(url, async (c) => {
    for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 3))) {
      if (Date.now() > deadline) throw new Error(`timed out polling ${count}`);
      const n = Number((await c.query(count).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n);
      if (ready(n)) return n;
    }
  });
}

/**
 * Kills the state server during a first import (at `killAt`, or once Ferry has killed itself at the
 * failpoint `failpoint`), starts it again, checks, and runs the import again.
 */
async function killAndRecover(name: string, killAt: KillPoint | { failpoint: string }): Promise<void> {
  server = await startPrivateServer('postgres', `${name}_state`);
  const stateUrl = server.url;
  // The WAL writer writes seldom: an unflushed commit stays in the server's memory, so the kill can lose it.
  await sql(stateUrl, `ALTER SYSTEM SET wal_writer_delay = '10s'`);
  await sql(stateUrl, `ALTER SYSTEM SET wal_writer_flush_after = '64MB'`);
  await sql(stateUrl, `SELECT pg_reload_conf()`);
  const [sourceUrl, targetUrl] = [await freshDatabase(`${name}_src`), await freshDatabase(`${name}_dst`)];
  await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
  await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
  await seedMini(sourceUrl);
  await sql(sourceUrl, `INSERT INTO people SELECT g, 'P' || g, 'p' || g || '@example.org', 'Member', NULL, now() FROM generate_series(100, ${99 + PEOPLE}) g`);
  // A slow target write, so a group takes long enough to be caught where the test wants it.
  await sql(
    targetUrl,
    `CREATE FUNCTION slow_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.03); RETURN NULL; END $$;
     CREATE TRIGGER slow_write AFTER INSERT ON people FOR EACH STATEMENT EXECUTE FUNCTION slow_write();`,
  );
  const dir = miniManifests(sourceUrl, targetUrl, { batchSize: BATCH });
  const failpoint = typeof killAt === 'function' ? {} : { FERRY_FAILPOINT: killAt.failpoint };
  const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...failpoint } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
  if (typeof killAt === 'function') {
    const seen = await killAt(stateUrl, targetUrl);
    server.kill();
    expect(await exited, stderr).toEqual([1, null]);
    expect(stderr).toMatch(/^ferry: .*state database/m);
    if (process.env.FERRY_TEST_VERBOSE) console.log(`${name}: ${seen} before the kill`);
  } else {
    // Nothing writes to the state server between Ferry's end and its kill.
    expect(await exited, stderr).toEqual([null, 'SIGKILL']);
    server.kill();
  }

  await server.restart();
  // Every row that landed has its pair: the pairs of a group are durable before its target commits.
  const pairs = await sql(stateUrl, `SELECT target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
  const paired = new Set(pairs.map((p) => String(p.target_key)));
  const landed = await sql(targetUrl, `SELECT id FROM people`);
  expect(landed.length).toBeGreaterThan(0);
  expect(landed.filter((row) => !paired.has(encodeInteger(String(row.id))))).toEqual([]);
  if (process.env.FERRY_TEST_VERBOSE) console.log(`${name}: pairs after the restart ${pairs.length}, landed ${landed.length}`);

  await sql(targetUrl, `DROP TRIGGER slow_write ON people`);
  const next = spawnSync(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, timeout: 120_000 });
  expect(next.status, next.stderr).toBe(0);
  const [{ rows, emails }] = await sql(targetUrl, `SELECT count(*)::int AS rows, count(DISTINCT email)::int AS emails FROM people`);
  expect({ rows, emails }).toEqual({ rows: PEOPLE + 7, emails: PEOPLE + 7 });
  // Exactly one pair per row, each naming a row that exists, and no marker left.
  const after = await sql(stateUrl, `SELECT source_key, target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
  expect(after.length).toBe(PEOPLE + 7);
  expect(new Set(after.map((p) => String(p.source_key))).size).toBe(PEOPLE + 7);
  expect(new Set(after.map((p) => String(p.target_key))).size).toBe(PEOPLE + 7);
  const ids = new Set((await sql(targetUrl, `SELECT id FROM people`)).map((row) => encodeInteger(String(row.id))));
  expect(after.filter((p) => !ids.has(String(p.target_key)))).toEqual([]);
  expect(await sql(stateUrl, `SELECT id FROM ferry.inflight_batches`)).toEqual([]);
  await server.stop();
  server = undefined;
}

const PAIRS = `SELECT count(*)::int AS n FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`;

/**
 * The members of a group of fresh-row batches commit their pairs without waiting for the state
 * server's WAL flush, all but the one the group's target commit waits for (grouped-batches.ts). Here
 * the state server is killed (SIGKILL of every server process, so WAL not yet written is lost) and
 * started again on its data directory.
 */
describe('the state server is killed during a first import written in groups of batches', () => {
  it('in the middle of a group, after some members committed their pairs: no landed row without its pair, then every row once with one pair', async () => {
    // Two to six members of a group past the first have committed (a commit is visible before its flush).
    await killAndRecover('gkill_mid', (stateUrl) => pollUntil(stateUrl, PAIRS, (n) => n > GROUP && n % GROUP >= 2 * BATCH && n % GROUP <= 6 * BATCH));
  }, 240_000);

  it("right after a group's target commit: its pairs are durable, then every row once with one pair", async () => {
    await killAndRecover('gkill_after', (_stateUrl, targetUrl) => pollUntil(targetUrl, `SELECT count(*)::int AS n FROM people`, (n) => n > 0));
  }, 240_000);

  it("as Ferry ends right after a group's target commit, before anything else is written to it: the group's pairs are there", async () => {
    // The last member's pairs commit waited for the WAL flush; had it not, its commit record would
    // still be in the killed server's memory, and the landed rows of its batch without pairs.
    // The first pass is over the firms (one batch): the second time is the first group of people.
    await killAndRecover('gkill_end', { failpoint: 'batch:target-committed:2' });
  }, 240_000);
});
