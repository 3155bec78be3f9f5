import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { miniFlowSpec } from '../helpers/mini-flow.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-connstr-'));
  scratch.push(dir);
  return dir;
}

function manifests(sourceUrl: string, targetUrl = sourceUrl): string {
  const dir = scratchDir();
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'conn' }, spec: miniFlowSpec() },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

function ferry(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [FERRY, ...args], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });
  return { code: run.status, out: run.stderr + run.stdout, stderr: run.stderr };
}

const UNREACHABLE = 'postgres://ferry:pw@127.0.0.1:1/nowhere';

async function runsIn(stateUrl: string): Promise<number> {
  return withClient(stateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.runs`)).rows[0].n as number);
}

describe('bad connection strings are named', () => {
  it.each([
    ['#', 'postgres://ferry:se#cret@127.0.0.1:5432/db'],
    ['/', 'postgres://ferry:se/cret@127.0.0.1:5432/db'],
  ])('an unencoded %s in a Secret URL names the Secret and its field, exit 2, no password', (_char, url) => {
    const run = ferry(['run', '-f', manifests(url), '--state-db', UNREACHABLE, '--mode', 'Full']);
    expect(run.code, run.out).toBe(2);
    expect(run.stderr).toMatch(/spec\.source\.postgres\.secretRef/);
    expect(run.stderr).toMatch(/Secret "src"/);
    expect(run.stderr).toMatch(/percent-encode|%23|%2F/);
    expect(run.out).not.toMatch(/se.cret/);
  });

  it('--state-db "not a url" is exit 2 naming the flag', () => {
    const run = ferry(['run', '-f', manifests(UNREACHABLE), '--state-db', 'not a url', '--mode', 'Full']);
    expect(run.code, run.out).toBe(2);
    expect(run.stderr).toMatch(/--state-db/);
    expect(run.stderr).not.toMatch(/ENOTFOUND/);
  });
});

describe('the state database URL can stay out of ps', () => {
  it('ferry run takes it from FERRY_STATE_DB_URL', async () => {
    const stateUrl = await freshDatabase('connstr_env');
    const run = ferry(['run', '-f', manifests(UNREACHABLE), '--mode', 'Full', '--data-dir', join(scratchDir(), 'unused')], { FERRY_STATE_DB_URL: stateUrl });
    expect(run.code, run.out).toBe(1);
    expect(run.stderr).toMatch(/source database/);
    expect(await runsIn(stateUrl)).toBe(1);
  });

  it('ferry run takes it from --state-db-file, and names the flag when the file is missing', async () => {
    const stateUrl = await freshDatabase('connstr_file');
    const file = join(scratchDir(), 'state-url');
    writeFileSync(file, `${stateUrl}\n`);
    chmodSync(file, 0o600);
    const run = ferry(['run', '-f', manifests(UNREACHABLE), '--mode', 'Full', '--state-db-file', file]);
    expect(run.code, run.out).toBe(1);
    expect(await runsIn(stateUrl)).toBe(1);
    const missing = ferry(['run', '-f', manifests(UNREACHABLE), '--mode', 'Full', '--state-db-file', join(scratchDir(), 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--state-db-file/);
  });

  it('--help documents both', () => {
    const help = ferry(['run', '--help']).out;
    expect(help).toMatch(/FERRY_STATE_DB_URL/);
    expect(help).toMatch(/--state-db-file/);
  });
});
