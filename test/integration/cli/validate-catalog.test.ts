import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { validatePathsWithDatabases } from '../../../src/cli/validate.js';
import { testDatabase, type TestDatabase } from '../../helpers/pairings.js';

const scratchDirs: string[] = [];
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');

const SOURCE_SQL = `
  CREATE TABLE firms (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
  CREATE TABLE people (id bigint PRIMARY KEY, name text, age_text text, email text, member_since date, firm_id bigint REFERENCES firms(id),
    updated_at timestamptz NOT NULL);`;

const TARGET_SQL = `
  CREATE TABLE companies (id bigint AUTO_INCREMENT PRIMARY KEY, title varchar(200) NOT NULL, town varchar(100), modified_at datetime(6));
  CREATE TABLE contacts (id bigint AUTO_INCREMENT PRIMARY KEY, full_name varchar(100), age int, joined datetime(6), company_id bigint,
    active tinyint(1) NOT NULL DEFAULT 1, modified_at datetime(6), FOREIGN KEY (company_id) REFERENCES companies (id));`;

const firms = {
  name: 'firms',
  source: { table: 'firms', keys: ['id'], updatedAt: 'updated_at' },
  target: { table: 'companies', keys: ['id'], updatedAt: 'modified_at' },
  fields: [{ source: 'name', target: 'title' }],
};

function twoWaySpec(): SyncFlowSpec {
  return {
    direction: 'TwoWay',
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { mysql: { secretRef: { name: 'dst' } } },
    entities: [
      { ...firms, fields: [...firms.fields, { source: 'city', target: 'town' }] },
      {
        name: 'people',
        source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: 'contacts', keys: ['id'], updatedAt: 'modified_at' },
        fields: [
          { source: 'name', target: 'full_name' },
          { source: 'age_text', target: 'age' },
          { source: 'email', target: 'mail' },
          { source: 'member_since', target: 'joined' },
          { source: 'firm_id', target: 'company_id', lookup: 'firms' },
        ],
        requires: ['firms'],
      },
    ],
  };
}

function manifestDir(spec: SyncFlowSpec, urls: { src: string; dst: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-validate-'));
  scratchDirs.push(dir);
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'website' }, spec },
    ...Object.entries(urls).map(([name, url]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { url } })),
  ];
  writeFileSync(join(dir, 'flow.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe('ferry validate against the databases (PostgreSQL source, MariaDB target)', () => {
  let source: TestDatabase;
  let target: TestDatabase;

  beforeAll(async () => {
    [source, target] = [await testDatabase('postgres', 'vcat_src'), await testDatabase('mysql', 'vcat_dst')];
    await source.exec(SOURCE_SQL);
    await target.exec(TARGET_SQL);
  });

  it('names missing columns and mapped types that do not fit, on both sides, with their field paths', async () => {
    const dir = manifestDir(twoWaySpec(), { src: source.url, dst: target.url });
    const result = await validatePathsWithDatabases([dir]);
    expect(result.notes).toEqual([]);
    expect(result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'spec.entities[0].fields[1].source: column "city" does not exist in table "firms"',
      'spec.entities[1].fields[2].target: column "mail" does not exist in table "contacts"',
      'spec.entities[1].fields[1].target: column "age" is integer in the target database and cannot hold the source\'s text values of "age_text"',
      'spec.entities[1].fields[3].source: column "member_since" is date in the source database and cannot hold the target\'s timestamp values of "joined"',
    ]);
    expect(result.report).toContain(`${join(dir, 'flow.yaml')}#1: spec.entities[1].fields[1].target: column "age" is integer`);
  });

  it('passes a flow that fits both databases and says it checked them', async () => {
    const spec: SyncFlowSpec = { ...twoWaySpec(), entities: [firms] };
    const result = await validatePathsWithDatabases([manifestDir(spec, { src: source.url, dst: target.url })]);
    expect(result.errors).toEqual([]);
    expect(result.report).toBe('✓ 1 manifest valid (tables, columns and types checked in the databases of 1 flow)');
  });

  it('gives one masked note for an unreachable database and still exits 0', () => {
    const unreachable = 'mysql://ferry:s3cret-pw@127.0.0.1:1/website';
    const dir = manifestDir({ ...twoWaySpec(), entities: [firms] }, { src: source.url, dst: unreachable });
    const out = spawnSync(process.execPath, [FERRY, 'validate', '-f', dir], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, timeout: 120_000 });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe('✓ 1 manifest valid (tables, columns and types checked in the databases of 1 flow)');
    const lines = out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/: note: SyncFlow "website": target database not checked: cannot connect to the target database at mysql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/website/);
    expect(out.stdout + out.stderr).not.toContain('s3cret-pw');
  });

  it('--offline does not connect', () => {
    const dir = manifestDir(twoWaySpec(), { src: 'postgres://ferry:s3cret-pw@127.0.0.1:1/x', dst: 'mysql://ferry:s3cret-pw@127.0.0.1:1/x' });
    const out = spawnSync(process.execPath, [FERRY, 'validate', '-f', dir, '--offline'], { encoding: 'utf8', timeout: 120_000 });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe('✓ 1 manifest valid');
    expect(out.stderr).toBe('');
  });
});
