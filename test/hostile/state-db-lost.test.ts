import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { MINI_SOURCE_SQL, MINI_TARGET_SQL, miniFlowSpec, seedMini } from '../helpers/mini-flow.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const sql = (url: string, text: string) => withClient(url, async (c) => (await c.query(text)).rows);

function manifests(sourceUrl: string, targetUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-state-'));
  dirs.push(dir);
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec() },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (await check()) return;
  throw new Error('timed out');
}

describe('hostile environment: the state database goes away mid-run', () => {
  it('ends with one line naming the state database and exit 1; the next run marks the lost one Interrupted', async () => {
    const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('lost_src'), await freshDatabase('lost_dst'), await freshDatabase('lost_state')];
    await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
    await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
    await seedMini(sourceUrl);
    // Enough people, in batches of 3, that the run is still busy when the state database goes.
    await sql(sourceUrl, `INSERT INTO people SELECT g, 'P' || g, 'p' || g || '@example.org', 'Member', NULL, now() FROM generate_series(100, 20099) g`);
    const dir = manifests(sourceUrl, targetUrl);

    const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(async () => (await sql(stateUrl, `SELECT 1 FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people' LIMIT 1`).catch(() => [])).length > 0, 60_000);
    const database = new URL(stateUrl).pathname.slice(1);
    await sql(stateUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`);

    const code = await exited;
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/^ferry: .*state database/m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    const password = new URL(stateUrl).password;
    if (password) expect(stderr).not.toContain(password);

    await sql(sourceUrl, `DELETE FROM people WHERE id >= 100`);
    const next = spawnSync(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, timeout: 120_000 });
    expect(next.status, next.stderr).toBe(0);
    expect(await sql(stateUrl, `SELECT status FROM ferry.runs ORDER BY started_at`)).toEqual([{ status: 'Interrupted' }, { status: 'Succeeded' }]);
  });
});
