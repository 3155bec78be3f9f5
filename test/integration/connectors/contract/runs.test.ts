import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../../src/connectors/run.js';
import { createLogger } from '../../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../../helpers/databases.js';
import { MINI_SOURCE, MINI_TARGET, pairingSpec, seedMiniRows, testDatabase, type TestDatabase } from '../../../helpers/pairings.js';
import type { Entity } from '../../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { sourceFiles } from '../../../../src/store/source-files.js';
import { EVENT_RESOURCE, wordpressCredentials, wordpressRecords, wordpressSystem } from '../../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE } from '../../../helpers/wordpress-server.js';
import { initFilesContract } from './files-fixture.js';
import { initHttpContract } from './http-fixture.js';
import { CONNECTORS, type SqlKind } from './setup.js';

/** Whole runs through each connector: a dry run writes nothing; a crash at a failpoint and a re-run equal a clean run. */
const logger = createLogger({ level: 'silent', pretty: false });
const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function targetFacts(target: TestDatabase) {
  return {
    firms: await target.rows(`SELECT title FROM firms ORDER BY title`),
    people: await target.rows(`SELECT p.email, p.status, f.title FROM people p LEFT JOIN firms f ON f.id = p.firm_id ORDER BY p.email`),
    interests: await target.rows(`SELECT p.email, i.code FROM person_interests i JOIN people p ON p.id = i.person_id ORDER BY p.email, i.code`),
  };
}

async function databases(sourceKind: SqlKind, targetKind: SqlKind, source?: TestDatabase) {
  const src = source ?? (await testDatabase(sourceKind, 'run_src'));
  if (!source) {
    await src.exec(MINI_SOURCE[sourceKind]);
    await seedMiniRows(src);
  }
  const target = await testDatabase(targetKind, 'run_dst');
  await target.exec(MINI_TARGET[targetKind]);
  return { source: src, target, stateUrl: await freshDatabase('run_state') };
}

describe.each(CONNECTORS)('whole runs through %s', (kind) => {
  const name = 'a dry run reports the writes and writes nothing to the target or the state';
  if (kind === 'files') return it(name, { timeout: 120_000 }, filesDryRun);
  if (kind === 'http') return it(name, { timeout: 180_000 }, httpDryRun);
  it(name, async () => {
    const { source, target, stateUrl } = await databases(kind, kind);
    const request = { flowId: `test/dry-${kind}`, spec: pairingSpec(kind, kind), sourceUrl: source.url, targetUrl: target.url, stateUrl, logger };
    const dry = await runSync({ ...request, mode: 'Full', dryRun: true });
    expect(dry.totals.created).toBe(15);
    expect(await targetFacts(target)).toEqual({ firms: [], people: [], interests: [] });
    const pairs = await withClient(stateUrl, (c) => c.query(`SELECT count(*)::int AS n FROM ferry.pairs`));
    expect(pairs.rows[0].n).toBe(0);
    const real = await runSync({ ...request, mode: 'Full' });
    expect(real.totals.created).toBe(15);
  });
});

const pairCount = async (stateUrl: string) => (await withClient(stateUrl, (c) => c.query(`SELECT count(*)::int AS n FROM ferry.pairs`))).rows[0].n as number;

/** A files source: the dry run reads the partner's file and records nothing, not even the file as imported. */
async function filesDryRun() {
  const entity = { name: 'items', source: { table: 'src_items', keys: ['code'] }, target: { table: 'dst_items', keys: ['code'] }, fields: ['code', 'name'].map((c) => ({ source: c, target: c })) } as Entity;
  const fx = await initFilesContract('runs_files', 'CREATE TABLE dst_items (code text PRIMARY KEY, name text)', [entity]);
  try {
    await fx.drop('src_items-1.csv', ['code', 'name'], [['a', 'Ann'], ['b', 'Bob'], ['c', 'Cy']]);
    const request = { flowId: 'test/dry-files', spec: fx.spec, sourceUrl: '', targetUrl: fx.target.url, stateUrl: fx.stateUrl, logger, files: fx.context };
    const imported = async () => (await withClient(fx.stateUrl, (c) => sourceFiles(c, 'test/dry-files'))).filter((f) => f.status === 'imported').length;
    const dry = await runSync({ ...request, mode: 'Full', dryRun: true });
    expect(dry.status, dry.error).toBe('Succeeded');
    expect(dry.totals.created).toBe(3);
    expect(await fx.target.rows('SELECT code FROM dst_items')).toEqual([]);
    expect(await pairCount(fx.stateUrl)).toBe(0);
    expect(await withClient(fx.stateUrl, (c) => sourceFiles(c, 'test/dry-files'))).toEqual([]);
    const real = await runSync({ ...request, mode: 'Full' });
    expect(real.totals.created).toBe(3);
    expect(await imported()).toBe(1);
  } finally {
    await fx.close();
  }
}

/** WordPress as the target (no transactions): the dry run simulates its writes and sends none. */
async function httpDryRun() {
  const entity = {
    name: 'items',
    source: { table: 'items', keys: ['code'] },
    target: { table: EVENT_POST_TYPE, keys: ['id'], resource: EVENT_RESOURCE },
    match: [{ source: 'code', target: 'event_code' }],
    fields: [
      { source: 'code', target: 'event_code' },
      { source: 'title', target: 'title' },
    ],
  } as unknown as Entity;
  // The fixture's own flow is WordPress to WordPress; this run only uses its site and fault injector.
  const fx = await initHttpContract();
  try {
    const source = await testDatabase('postgres', 'dry_http_src');
    await source.exec(`CREATE TABLE items (code text PRIMARY KEY, title text); INSERT INTO items VALUES ('a', 'Ann'), ('b', 'Bob'), ('c', 'Cy')`);
    const spec = { direction: 'OneWay', source: { postgres: { secretRef: { name: 'src' } } }, target: wordpressSystem(fx.proxy.origin), entities: [entity] } as unknown as SyncFlowSpec;
    const request = { flowId: 'test/dry-http', spec, sourceUrl: source.url, targetUrl: wordpressCredentials(fx.wp), stateUrl: await freshDatabase('dry_http_state'), logger };
    fx.proxy.reset();
    const dry = await runSync({ ...request, mode: 'Full', dryRun: true });
    expect(dry.status, dry.error).toBe('Succeeded');
    expect(dry.totals.created).toBe(3);
    expect(fx.writes()).toBe(0);
    expect(await wordpressRecords(fx.wp, EVENT_POST_TYPE)).toEqual([]);
    expect(await pairCount(request.stateUrl)).toBe(0);
    const real = await runSync({ ...request, mode: 'Full' });
    expect(real.totals.created).toBe(3);
    expect((await wordpressRecords(fx.wp, EVENT_POST_TYPE)).length).toBe(3);
  } finally {
    await fx.close();
  }
}

/**
 * MariaDB on either side of a crash: `ferry run` is SIGKILLed at a failpoint, then the flow is run
 * again (in process, the same code path). Two failpoints per pairing keep the suite fast; the
 * PostgreSQL-only crash-recovery test covers many more.
 */
const CRASHES: [SqlKind, SqlKind, string[]][] = [
  ['postgres', 'mysql', ['batch:pairs-committed:2', 'batch:target-committed:3']],
  ['mysql', 'postgres', ['batch:target-committed:2', 'batch:done:3']],
];
// `ferry run -f` names the flow by its namespace (default) and name.
const FLOW_ID = 'default/mini';

function ferryRun(dir: string, stateUrl: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--mode', 'Full', '--state-db', stateUrl, '-o', 'json'], {
      env: { ...process.env, ...env, FERRY_LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function flowDir(sourceKind: SqlKind, targetKind: SqlKind, sourceUrl: string, targetUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-contract-crash-'));
  scratch.push(dir);
  const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: pairingSpec(sourceKind, targetKind) };
  const secrets = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'flow.yaml'), [flow, ...secrets].map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe.each(CRASHES)('a crash (SIGKILL) at a failpoint, %s -> %s', (sourceKind, targetKind, failpoints) => {
  it('then a re-run gives the target of a clean run, and a further Full writes nothing', { timeout: 120_000 }, async () => {
    const clean = await databases(sourceKind, targetKind);
    const full = (s: typeof clean) =>
      runSync({ flowId: FLOW_ID, spec: pairingSpec(sourceKind, targetKind), sourceUrl: s.source.url, targetUrl: s.target.url, stateUrl: s.stateUrl, logger, mode: 'Full' });
    await full(clean);
    const expected = await targetFacts(clean.target);
    expect(expected.people).toHaveLength(7);
    for (const failpoint of failpoints) {
      const s = await databases(sourceKind, targetKind, clean.source);
      const killed = await ferryRun(flowDir(sourceKind, targetKind, s.source.url, s.target.url), s.stateUrl, { FERRY_FAILPOINT: failpoint });
      expect(killed.signal, `${failpoint}: ${killed.stderr}`).toBe('SIGKILL');
      const rerun = await full(s);
      expect(rerun.status, failpoint).toBe('Succeeded');
      expect(await targetFacts(s.target), failpoint).toEqual(expected);
      const again = await full(s);
      expect(again.totals.created + again.totals.updated + again.totals.deleted + again.totals.archived, failpoint).toBe(0);
    }
  });
});
