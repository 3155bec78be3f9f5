import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_TARGET_SQL, miniFlowSpec, MINI_SOURCE_SQL, seedMini } from '../../helpers/mini-flow.js';

const scratchDirs: string[] = [];
const track = (dir: string) => (scratchDirs.push(dir), dir);
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');

function ferry(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [FERRY, ...args], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function manifestDir(sourceUrl: string, targetUrl: string, extra: object[] = []): string {
  const dir = track(mkdtempSync(join(tmpdir(), 'ferry-cli-')));
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec() },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
    ...extra,
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe('ferry CLI', () => {
  it('prints its version', () => {
    const out = ferry(['version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toMatch(/^ferry \d+\.\d+\.\d+$/);
  });

  it('runs a SyncJob manifest end to end and prints the report; exit 0', async () => {
    const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('cli_src'), await freshDatabase('cli_dst'), await freshDatabase('cli_state')];
    await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
    await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
    await seedMini(sourceUrl);
    const job = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncJob', metadata: { name: 'mini-full' }, spec: { flowRef: { name: 'mini' }, mode: 'Full' } };
    const dir = manifestDir(sourceUrl, targetUrl, [job]);
    const out = ferry(['run', '-f', dir, '--state-db', stateUrl]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/default\/mini · Full · Succeeded/);
    expect(out.stdout).toMatch(/│ people\s+│\s+7 │\s+7 │/);
    const json = ferry(['run', '-f', dir, '--state-db', stateUrl, '--flow', 'mini', '--mode', 'Incremental', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'Incremental', status: 'Succeeded', totals: { read: 0 } });
  });

  it('exits 2 with every validation error and its field path for bad manifests', () => {
    const out = ferry(['run', '-f', join('examples', 'invalid', 'bad-cron.yaml')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/spec\.schedules\[0\]\.cron/);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 with one clear line, and no stack trace or password, when a database is unreachable', async () => {
    const stateUrl = await freshDatabase('cli_state');
    const dir = manifestDir('postgres://ferry:s3cret-pw@127.0.0.1:1/nowhere', 'postgres://ferry:s3cret-pw@127.0.0.1:1/nowhere');
    const out = ferry(['run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^ferry: cannot connect to the source database at postgres:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/m);
    expect(out.stderr + out.stdout).not.toContain('s3cret-pw');
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for an unknown flow or mode', () => {
    const out = ferry(['run', '-f', join('examples', 'association'), '--flow', 'nope', '--mode', 'Full']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/SyncFlow "nope" not found/);
    const badMode = ferry(['run', '-f', join('examples', 'association'), '--mode', 'Sometimes']);
    expect(badMode.code).toBe(2);
  });
});
