import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeInteger } from '../../../src/engine/keys.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_SOURCE_SQL, MINI_TARGET_SQL } from '../../helpers/mini-flow.js';
import { miniManifests, removeMiniManifests } from '../../helpers/mini-manifests.js';
import { ACCOUNTS_SQL, CHURCH_SQL, peopleEntity, twoWaySpec } from './two-way-fixture.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const dirs: string[] = [];
afterAll(() => {
  removeMiniManifests();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const sql = (url: string, text: string) => withClient(url, async (c) => (await c.query(text)).rows);

const PEOPLE = 1500;
const APP_ROW = { full_name: 'App row', email: 'app@example.com', status: 'App', firm_id: null, archived: false };

function ferry(dir: string, stateUrl: string, env: Record<string, string> = {}, mode = 'Full') {
  return spawnSync(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', mode], {
    encoding: 'utf8',
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env },
    timeout: 120_000,
  });
}

/** The mini flow's databases: 40 firms and `people` people in the source, batches of 100. */
async function oneWayWorld(name: string, people: number): Promise<{ sourceUrl: string; targetUrl: string; stateUrl: string; dir: string }> {
  const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase(`${name}_src`), await freshDatabase(`${name}_dst`), await freshDatabase(`${name}_state`)];
  await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
  await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
  await sql(sourceUrl, `INSERT INTO firms SELECT i, 'Firm ' || i, timestamptz '2026-01-01' FROM generate_series(1, 40) i`);
  await sql(sourceUrl, `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1 + i % 40, timestamptz '2026-01-01' FROM generate_series(1, ${people}) i`);
  return { sourceUrl, targetUrl, stateUrl, dir: miniManifests(sourceUrl, targetUrl, { batchSize: 100 }) };
}

/** A run that kills itself at `failpoint` (a real SIGKILL, while its target transaction is open). */
function killedAt(dir: string, stateUrl: string, failpoint: string, mode = 'Full'): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', mode], {
      env: { ...process.env, FERRY_LOG_LEVEL: 'warn', FERRY_FAILPOINT: failpoint },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (_code, signal) => resolve({ signal, stderr }));
  });
}

/**
 * A first import is killed while a group's target transaction is open (its members' pairs and
 * markers committed, grouped-batches.ts). The people sequence is then set back, as a restore, an
 * admin's setval or a target server that lost the draws would, and an application inserts its own
 * row under the first key Ferry had drawn. The next run must not take that row for Ferry's.
 */
describe("a key drawn by an interrupted run, taken by an application's row before the next run", () => {
  it("one-way: the application's row is left as it is; every record lands once under a new key, its pair naming Ferry's row", { timeout: 240_000 }, async () => {
    const { sourceUrl, targetUrl, stateUrl, dir } = await oneWayWorld('foreign', PEOPLE);

    // The firms are one batch (the first pairs commit); the people's fourth batch is in the group begun by their first.
    const killed = await killedAt(dir, stateUrl, 'batch:pairs-committed:5');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(await sql(stateUrl, `SELECT count(*)::int AS n FROM ferry.inflight_batches WHERE entity = 'people' AND target_transaction IS NOT NULL`)).not.toEqual([{ n: 0 }]);

    // The people sequence back to the last row that landed (a group before may have committed); the
    // application's insert takes the next key, which a pair of the open group names.
    await sql(targetUrl, `SELECT setval('people_id_seq', coalesce((SELECT max(id) FROM people), 4999))`);
    const [{ id: appId }] = await sql(targetUrl, `INSERT INTO people (full_name, email, status) VALUES ('App row', 'app@example.com', 'App') RETURNING id::text`);
    const claimed = await sql(stateUrl, `SELECT source_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people' AND target_key = '${encodeInteger(appId)}'`);
    expect(claimed).toHaveLength(1);

    const next = ferry(dir, stateUrl);
    expect(next.status, next.stderr).toBe(0);
    const again = ferry(dir, stateUrl);
    expect(again.status, again.stderr).toBe(0);

    const app = await sql(targetUrl, `SELECT full_name, email, status, firm_id, archived FROM people WHERE id = ${appId}`);
    expect(app).toEqual([APP_ROW]);
    const rows = await sql(targetUrl, `SELECT id::text, email FROM people WHERE id <> ${appId}`);
    expect(rows).toHaveLength(PEOPLE);
    expect(new Set(rows.map((r) => r.email)).size).toBe(PEOPLE);
    // Every pair names Ferry's row of its own record, none the application's.
    const emailById = new Map(rows.map((r) => [encodeInteger(r.id), r.email]));
    const pairs = await sql(stateUrl, `SELECT source_key, target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
    expect(pairs).toHaveLength(PEOPLE);
    const wrong = pairs.filter((p) => emailById.get(String(p.target_key)) === undefined || !emailFor(String(p.source_key), emailById.get(String(p.target_key))!));
    expect(wrong).toEqual([]);
    expect(new Set(pairs.map((p) => String(p.target_key))).size).toBe(PEOPLE);
    expect(await sql(stateUrl, `SELECT id FROM ferry.inflight_batches`)).toEqual([]);
  });
});

describe('an Incremental batch of new and changed records, killed while its target transaction is open', () => {
  it("one-way: the application's row under a key it had drawn is left as it is; the new records land once, the changes too", { timeout: 240_000 }, async () => {
    const { sourceUrl, targetUrl, stateUrl, dir } = await oneWayWorld('foreign_inc', 500);
    const first = ferry(dir, stateUrl);
    expect(first.status, first.stderr).toBe(0);
    // Each of the Incremental's people batches holds new records and changed ones (the changes interleave with the new rows' timestamps).
    await sql(sourceUrl, `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1 + i % 40, timestamptz '2026-02-01' + (i - 501) * interval '1 second' FROM generate_series(501, 800) i`);
    await sql(sourceUrl, `UPDATE people SET status = 'Lapsed', updated_at = timestamptz '2026-02-01' + (id * 3 % 300) * interval '1 second' + interval '1 millisecond' WHERE id % 5 = 0 AND id <= 500`);

    const killed = await killedAt(dir, stateUrl, 'batch:pairs-committed:2', 'Incremental');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(await sql(stateUrl, `SELECT count(*)::int AS n FROM ferry.inflight_batches WHERE entity = 'people' AND target_transaction IS NOT NULL`)).not.toEqual([{ n: 0 }]);
    await sql(targetUrl, `SELECT setval('people_id_seq', (SELECT max(id) FROM people))`);
    const [{ id: appId }] = await sql(targetUrl, `INSERT INTO people (full_name, email, status) VALUES ('App row', 'app@example.com', 'App') RETURNING id::text`);
    expect(await sql(stateUrl, `SELECT source_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people' AND target_key = '${encodeInteger(appId)}'`)).toHaveLength(1);

    const next = ferry(dir, stateUrl, {}, 'Incremental');
    expect(next.status, next.stderr).toBe(0);
    expect(await sql(targetUrl, `SELECT full_name, email, status, firm_id, archived FROM people WHERE id = ${appId}`)).toEqual([APP_ROW]);
    const rows = await sql(targetUrl, `SELECT id::text, email, status FROM people WHERE id <> ${appId}`);
    expect(rows).toHaveLength(800);
    expect(new Set(rows.map((r) => r.email)).size).toBe(800);
    expect(rows.filter((r) => r.status === 'Lapsed')).toHaveLength(100);
    const emailById = new Map(rows.map((r) => [encodeInteger(r.id), r.email]));
    const pairs = await sql(stateUrl, `SELECT source_key, target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
    expect(pairs).toHaveLength(800);
    expect(pairs.filter((p) => !emailFor(String(p.source_key), emailById.get(String(p.target_key)) ?? ''))).toEqual([]);
  });
});

/** Whether `email` is the one of the source person whose encoded key is `sourceKey`. */
function emailFor(sourceKey: string, email: string): boolean {
  const id = /^p(\d+)@example\.org$/.exec(email)?.[1];
  return id !== undefined && encodeInteger(id) === sourceKey;
}

/** 60 people only in church, 60 only in accounts: a first sync creates each on the other side under drawn keys. */
async function twoWayWorld(): Promise<{ dir: string; church: string; accounts: string; state: string }> {
  const [church, accounts, state] = [await freshDatabase('foreign_church'), await freshDatabase('foreign_accounts'), await freshDatabase('foreign_tw_state')];
  await sql(church, CHURCH_SQL);
  await sql(church, `INSERT INTO people (first_name, last_name, email, status, family_status) SELECT 'C' || i, 'Church', 'c' || i || '@x.org', 'Member', 'Single' FROM generate_series(1, 60) i`);
  await sql(accounts, ACCOUNTS_SQL);
  await sql(accounts, `INSERT INTO persons (name_first, name_last, mail, category) SELECT 'A' || i, 'Accounts', 'a' || i || '@x.org', 'Donor' FROM generate_series(1, 60) i`);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-foreign-'));
  dirs.push(dir);
  const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'foreign' }, spec: twoWaySpec([peopleEntity()], { batchSize: 10 }) };
  const secret = (name: string, url: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { url } });
  writeFileSync(join(dir, 'flow.yaml'), [flow, secret('church', church), secret('accounts', accounts)].map((d) => stringify(d)).join('---\n'));
  return { dir, church, accounts, state };
}

/** The application's own rows, one on each side, under the next keys of their sequences. */
async function insertAppRows(w: { church: string; accounts: string }): Promise<{ church: string; accounts: string }> {
  const [{ id }] = await sql(w.church, `INSERT INTO people (first_name, last_name, email, status) VALUES ('App', 'Church', 'app@church.org', 'Member') RETURNING id::text`);
  const [{ nr }] = await sql(w.accounts, `INSERT INTO persons (name_first, name_last, mail, category) VALUES ('App', 'Accounts', 'app@accounts.org', 'Donor') RETURNING nr::text`);
  return { church: id, accounts: nr };
}

/** Both systems as facts independent of generated ids, and the number of pairs. */
async function twoWayFacts(w: { church: string; accounts: string; state: string }) {
  return {
    church: await sql(w.church, `SELECT first_name, last_name, email, status FROM people ORDER BY 1, 2, 3, 4`),
    accounts: await sql(w.accounts, `SELECT name_first, name_last, mail, category FROM persons ORDER BY 1, 2, 3, 4`),
    pairs: (await sql(w.state, `SELECT count(*)::int AS n FROM ferry.pairs`))[0].n,
  };
}

const APP_ROWS = {
  church: [{ first_name: 'App', last_name: 'Church', email: 'app@church.org', status: 'Member', family_status: null, archived: false }],
  accounts: [{ name_first: 'App', name_last: 'Accounts', mail: 'app@accounts.org', category: 'Donor', marital: null, inactive: false }],
};

describe("two-way: a key drawn by an interrupted batch, taken by an application's row before the next run", () => {
  it("the application's rows are left as they are and synced as records of their own; the interrupted creates are made anew", { timeout: 240_000 }, async () => {
    // What an uninterrupted first sync gives with the application's rows there from the start.
    const clean = await twoWayWorld();
    await insertAppRows(clean);
    const first = ferry(clean.dir, clean.state);
    expect(first.status, first.stderr).toBe(0);
    const expected = await twoWayFacts(clean);
    expect(expected.pairs).toBe(122);

    // Killed once its third batch's redo entry committed, both sides' transactions still open.
    const w = await twoWayWorld();
    const killed = await killedAt(w.dir, w.state, 'two-way:pairs-committed:3');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const [redo] = await sql(w.state, `SELECT items, side_transactions FROM ferry.two_way_redo ORDER BY id DESC LIMIT 1`);
    expect(Object.keys(redo.side_transactions).length).toBeGreaterThan(0);
    // Both sequences back to the last row that landed; the application takes the next keys.
    await sql(w.church, `SELECT setval('people_id_seq', (SELECT max(id) FROM people))`);
    await sql(w.accounts, `SELECT setval(pg_get_serial_sequence('persons', 'nr'), (SELECT max(nr) FROM persons))`);
    const app = await insertAppRows(w);
    // The interrupted batch created a record under one of those keys.
    const creates = (redo.items as { source?: { key: string[]; previousHash: string | null }; target?: { key: string[]; previousHash: string | null } }[]).flatMap((i) => [
      ...(i.source?.previousHash === null ? [`church ${i.source.key[0]}`] : []),
      ...(i.target?.previousHash === null ? [`accounts ${i.target.key[0]}`] : []),
    ]);
    expect(creates.filter((c) => c === `church ${app.church}` || c === `accounts ${app.accounts}`)).not.toEqual([]);

    const rerun = ferry(w.dir, w.state);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(await sql(w.church, `SELECT first_name, last_name, email, status, family_status, archived FROM people WHERE id = ${app.church}`)).toEqual(APP_ROWS.church);
    expect(await sql(w.accounts, `SELECT name_first, name_last, mail, category, marital, inactive FROM persons WHERE nr = ${app.accounts}`)).toEqual(APP_ROWS.accounts);
    expect(await twoWayFacts(w)).toEqual(expected);
    const again = ferry(w.dir, w.state);
    expect(again.status, again.stderr).toBe(0);
    expect(await twoWayFacts(w)).toEqual(expected);
  });
});
