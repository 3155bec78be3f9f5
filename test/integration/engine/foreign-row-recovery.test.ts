import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInteger } from '../../../src/engine/keys.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_SOURCE_SQL, MINI_TARGET_SQL } from '../../helpers/mini-flow.js';
import { miniManifests, removeMiniManifests } from '../../helpers/mini-manifests.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
afterAll(() => removeMiniManifests());

const sql = (url: string, text: string) => withClient(url, async (c) => (await c.query(text)).rows);

const PEOPLE = 1500;
const APP_ROW = { full_name: 'App row', email: 'app@example.com', status: 'App', firm_id: null, archived: false };

function ferry(dir: string, stateUrl: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], {
    encoding: 'utf8',
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env },
    timeout: 120_000,
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
    const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('foreign_src'), await freshDatabase('foreign_dst'), await freshDatabase('foreign_state')];
    await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
    await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
    await sql(sourceUrl, `INSERT INTO firms SELECT i, 'Firm ' || i, timestamptz '2026-01-01' FROM generate_series(1, 40) i`);
    await sql(sourceUrl, `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1 + i % 40, timestamptz '2026-01-01' FROM generate_series(1, ${PEOPLE}) i`);
    const dir = miniManifests(sourceUrl, targetUrl, { batchSize: 100 });

    // The firms are one batch (the first pairs commit); the people's fourth batch is in the group begun by their first.
    const killed = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], {
        env: { ...process.env, FERRY_LOG_LEVEL: 'warn', FERRY_FAILPOINT: 'batch:pairs-committed:5' },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (_code, signal) => resolve({ signal, stderr }));
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(await sql(stateUrl, `SELECT count(*)::int AS n FROM ferry.inflight_batches WHERE entity = 'people' AND target_transaction IS NOT NULL`)).not.toEqual([{ n: 0 }]);

    // The people sequence back to the last row that landed (a group before may have committed); the
    // application's insert takes the next key, which a pair of the open group names.
    await sql(targetUrl, `SELECT setval('people_id_seq', coalesce((SELECT max(id) FROM people), 4999))`);
    const [{ id: appId }] = await sql(targetUrl, `INSERT INTO people (full_name, email, status) VALUES ('App row', 'app@example.com', 'App') RETURNING id::text`);
    const claimed = await sql(stateUrl, `SELECT source_key FROM ferry.pairs WHERE entity = 'people' AND target_key = '${encodeInteger(appId)}'`);
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
    const pairs = await sql(stateUrl, `SELECT source_key, target_key FROM ferry.pairs WHERE entity = 'people'`);
    expect(pairs).toHaveLength(PEOPLE);
    const wrong = pairs.filter((p) => emailById.get(String(p.target_key)) === undefined || !emailFor(String(p.source_key), emailById.get(String(p.target_key))!));
    expect(wrong).toEqual([]);
    expect(new Set(pairs.map((p) => String(p.target_key))).size).toBe(PEOPLE);
    expect(await sql(stateUrl, `SELECT id FROM ferry.inflight_batches`)).toEqual([]);
  });
});

/** Whether `email` is the one of the source person whose encoded key is `sourceKey`. */
function emailFor(sourceKey: string, email: string): boolean {
  const id = /^p(\d+)@example\.org$/.exec(email)?.[1];
  return id !== undefined && encodeInteger(id) === sourceKey;
}
