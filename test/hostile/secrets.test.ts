import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl } from '../../src/util/errors.js';
import { freshDatabase, freshMysqlDatabase, withClient } from '../helpers/databases.js';
import { miniFlowSpec } from '../helpers/mini-flow.js';

const PASSWORD = 'Hunter2-leaky-Pw';
const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every way a driver takes a password, each with PASSWORD (wrong for the server). */
function forms(pgUrl: string, mysqlUrl: string): [string, string, 'postgres' | 'mysql'][] {
  const pg = new URL(pgUrl);
  const my = new URL(mysqlUrl);
  const pgBase = `postgres://${pg.username}@${pg.host}${pg.pathname}`;
  return [
    ['a URL query parameter', `${pgBase}?password=${PASSWORD}`, 'postgres'],
    ['a URL query parameter after another one', `${pgBase}?sslmode=disable&password=${PASSWORD}`, 'postgres'],
    ['a libpq key=value string', `host=${pg.hostname} port=${pg.port} dbname=${pg.pathname.slice(1)} user=${pg.username} password=${PASSWORD}`, 'postgres'],
    ['a quoted libpq key=value password', `host=${pg.hostname} port=${pg.port} dbname=${pg.pathname.slice(1)} user=${pg.username} password='${PASSWORD} x'`, 'postgres'],
    ['a MariaDB URL query parameter', `mysql://${my.username}@${my.host}${my.pathname}?password=${PASSWORD}`, 'mysql'],
  ];
}

function manifests(url: string, system: 'postgres' | 'mysql'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-secrets-'));
  scratch.push(dir);
  const spec = { ...miniFlowSpec(), source: { [system]: { secretRef: { name: 'src' } } } };
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'leaky' }, spec },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe('passwords in every connection-string form are redacted', () => {
  it.each([
    ['postgres://u@h/db?password=PW&sslmode=require', 'postgres://u@h/db?password=***&sslmode=require'],
    ['postgres://u:PW@h/db?sslpassword=PW', 'postgres://u:***@h/db?sslpassword=***'],
    ['host=h user=u password=PW dbname=d', 'host=h user=u password=*** dbname=d'],
    ["host=h password='P W' dbname=d", 'host=h password=*** dbname=d'],
    ['host=h password = PW', 'host=h password = ***'],
    ['mysql://u@h:3306/db?password=PW', 'mysql://u@h:3306/db?password=***'],
    ['https://api.example.com/v1?api_key=PW&x=1', 'https://api.example.com/v1?api_key=***&x=1'],
    ['https://api.example.com/v1?access_token=PW', 'https://api.example.com/v1?access_token=***'],
    ['https://api.example.com/v1?token=PW', 'https://api.example.com/v1?token=***'],
    ['postgres://u:p#w/x@h/db', 'postgres://u:***@h/db'],
  ])('redactUrl(%s)', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('redactSecrets masks the URL and its bare secrets inside a driver message', () => {
    const url = 'host=h user=u password=PW99 dbname=d';
    expect(redactSecrets(`failed for "${url}" (password PW99)`, [url])).toBe('failed for "host=h user=u password=*** dbname=d" (password ***)');
  });

  it('a failed ferry run leaks no password on stderr, in -o json or in the state database, in any form', async () => {
    const { inject } = await import('vitest');
    const stateUrl = await freshDatabase('secrets_state');
    const mysqlUrl = await freshMysqlDatabase('secrets');
    for (const [form, url, system] of forms(inject('pgUrl').replace(/\/[^/]*$/, '/postgres'), mysqlUrl)) {
      const run = spawnSync(process.execPath, [FERRY, 'run', '-f', manifests(url, system), '--state-db', stateUrl, '--mode', 'Full', '-o', 'json'], {
        encoding: 'utf8',
        env: { ...process.env, FERRY_LOG_LEVEL: 'debug' },
        timeout: 120_000,
      });
      if (url.includes('://')) {
        expect(run.status, `${form}: ${run.stderr}`).toBe(1);
        expect(run.stderr, form).toMatch(/source database/);
      } else {
        // node-pg and mysql2 take URLs only: a key=value string is refused before anything connects.
        expect(run.status, `${form}: ${run.stderr}`).toBe(2);
        expect(run.stderr, form).toMatch(/spec\.source\.postgres\.secretRef: Secret "src" key "url": the connection string is not a URL/);
      }
      expect(run.stderr + run.stdout, form).not.toContain(PASSWORD);
    }
    const rows = await withClient(stateUrl, (c) => c.query(`SELECT coalesce(error, '') || coalesce(report::text, '') AS text FROM ferry.runs`));
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const row of rows.rows) expect(row.text).not.toContain(PASSWORD);
  }, 240_000); // five CLI processes, one after the other
});
