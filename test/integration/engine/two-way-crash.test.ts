import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { ACCOUNTS_SQL, CHURCH_SQL, peopleEntity, twoWaySpec } from './two-way-fixture.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface World {
  dir: string;
  church: string;
  accounts: string;
  state: string;
}

/** 60 people only in church, 60 only in accounts, 20 in both (linked by name, NewerWins unifies them). */
async function world(): Promise<World> {
  const [church, accounts, state] = await Promise.all([freshDatabase('crash_church'), freshDatabase('crash_accounts'), freshDatabase('crash_tw_state')]);
  await withClient(church, async (c) => {
    await c.query(CHURCH_SQL);
    await c.query(`INSERT INTO people (first_name, last_name, email, status, family_status)
                   SELECT 'C' || i, 'Church', 'c' || i || '@x.org', 'Member', 'Single' FROM generate_series(1, 60) i`);
    await c.query(`INSERT INTO people (first_name, last_name, email, status, updated_at)
                   SELECT 'Both' || i, 'Shared', 'both' || i || '@church.org', 'Member', '2026-01-01' FROM generate_series(1, 20) i`);
  });
  await withClient(accounts, async (c) => {
    await c.query(ACCOUNTS_SQL);
    await c.query(`INSERT INTO persons (name_first, name_last, mail, category) SELECT 'A' || i, 'Accounts', 'a' || i || '@x.org', 'Donor' FROM generate_series(1, 60) i`);
    await c.query(`INSERT INTO persons (name_first, name_last, mail, category, changed_at)
                   SELECT 'Both' || i, 'Shared', 'both' || i || '@accounts.org', 'Donor', '2026-02-01' FROM generate_series(1, 20) i`);
  });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-two-way-crash-'));
  dirs.push(dir);
  const flow = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'crash' },
    spec: twoWaySpec([peopleEntity({ actions: ['link', 'createInTarget', 'createInSource', 'updateNewerWins'] })], { batchSize: 10 }),
  };
  const secret = (name: string, url: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { url } });
  writeFileSync(join(dir, 'flow.yaml'), [flow, secret('church', church), secret('accounts', accounts)].map((d) => stringify(d)).join('---\n'));
  return { dir, church, accounts, state };
}

/**
 * Changes on both sides after the first sync, in the same order in every world. Rows are chosen by
 * their values, not their generated ids: a recovered run may create records under other ids.
 */
async function change(w: World) {
  await withClient(w.church, (c) => c.query(`UPDATE people SET email = 'new-' || email WHERE abs(hashtext(first_name || last_name)) % 3 = 0`));
  await withClient(w.accounts, (c) => c.query(`UPDATE persons SET category = 'Friend' WHERE abs(hashtext(name_first || name_last)) % 4 = 0`));
  await withClient(w.accounts, (c) => c.query(`INSERT INTO persons (name_first, name_last, mail) SELECT 'Late' || i, 'Accounts', 'late' || i || '@x.org' FROM generate_series(1, 15) i`));
}

function run(w: World, env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FERRY, 'run', '-f', w.dir, '--mode', 'Full', '--state-db', w.state, '-o', 'json'], {
      env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, stdout }));
  });
}

async function completes(w: World): Promise<{ entities: { notes: string[] }[] }> {
  const outcome = await run(w);
  expect(outcome.code, outcome.stderr).toBe(0);
  return JSON.parse(outcome.stdout);
}

/** Both systems as facts independent of generated ids; a duplicate would show as a repeated row. */
async function facts(w: World) {
  const rows = (url: string, sql: string) => withClient(url, async (c) => (await c.query(sql)).rows);
  return {
    church: await rows(w.church, `SELECT first_name, last_name, email, status FROM people ORDER BY 1, 2, 3, 4`),
    accounts: await rows(w.accounts, `SELECT name_first, name_last, mail, category FROM persons ORDER BY 1, 2, 3, 4`),
    pairs: (await rows(w.state, `SELECT count(*)::int AS n FROM ferry.pairs`))[0].n,
  };
}

describe('a two-way run killed with SIGKILL, then re-run, ends exactly like an uninterrupted run', () => {
  it('holds for kills before, between and after the writes to the two systems', { timeout: 900_000 }, async () => {
    const clean = await world();
    await completes(clean);
    const expectedFirst = await facts(clean);
    expect(expectedFirst.church).toHaveLength(140);
    expect(expectedFirst.accounts).toHaveLength(140);
    expect(expectedFirst.pairs).toBe(140);
    await change(clean);
    await completes(clean);
    const expectedSecond = await facts(clean);

    // Killed after the redo log committed and before its writes landed, the re-run replays them; creates
    // under keys drawn from a sequence are made again under new keys instead (redo.ts).
    const replayed = /replayed \d+ writes of an interrupted run/;
    const createdAnew = /\d+ creates of an interrupted run that never landed are made again under new keys/;
    const scenarios: { phase: string; failpoint: string; drawsLost?: boolean; recovery?: RegExp }[] = [
      { phase: 'first', failpoint: 'two-way:pairs-committed:3', recovery: createdAnew },
      // A killed PostgreSQL server also loses the key draws of transactions that never committed: both sequences go back.
      { phase: 'first', failpoint: 'two-way:pairs-committed:3', drawsLost: true, recovery: createdAnew },
      { phase: 'first', failpoint: 'two-way:target-committed:2' },
      { phase: 'second', failpoint: 'two-way:source-committed:1' },
      { phase: 'second', failpoint: 'two-way:pairs-committed:2', recovery: replayed },
    ];
    for (const { phase, failpoint, drawsLost, recovery } of scenarios) {
      const w = await world();
      if (phase === 'second') {
        await completes(w);
        await change(w);
      }
      const killed = await run(w, { FERRY_FAILPOINT: failpoint });
      expect(killed.signal, `${failpoint}: ${killed.stderr}`).toBe('SIGKILL');
      if (drawsLost) {
        await withClient(w.church, (c) => c.query(`SELECT setval('people_id_seq', (SELECT max(id) FROM people))`));
        await withClient(w.accounts, (c) => c.query(`SELECT setval(pg_get_serial_sequence('persons', 'nr'), (SELECT max(nr) FROM persons))`));
      }
      const rerun = await completes(w);
      if (recovery) expect(rerun.entities[0].notes.join(' '), failpoint).toMatch(recovery);
      expect(await facts(w), failpoint).toEqual(phase === 'first' ? expectedFirst : expectedSecond);
      if (phase === 'first') {
        await change(w);
        await completes(w);
        expect(await facts(w), `${failpoint}, then the changes`).toEqual(expectedSecond);
      }
    }
  });
});
