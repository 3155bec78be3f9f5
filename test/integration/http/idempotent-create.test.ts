import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { credentialsText } from '../../../src/connectors/http/client-config.js';
import { runSync } from '../../../src/connectors/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { IDEMPOTENCY_HEADER, startIdempotentApiServer, type IdempotentApiServer } from '../../helpers/idempotent-api-server.js';

/**
 * Creates through an API that takes an idempotency key (`resource.create.idempotencyKeyHeader`), with
 * no match fields: the STAND-IN API server of the tests (test/helpers/idempotent-api-server.ts, since
 * no real API with idempotency keys runs here) behind the tests' FAULT INJECTOR. A create whose
 * answer is lost, and a run SIGKILLed between its creates and the pairs commit, leave exactly one
 * record per source row: the create is sent again with the key recorded before it (ferry.create_intents).
 */
const logger = createLogger({ level: 'silent', pretty: false });
const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const CODES = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
let sourceUrl: string;
let api: IdempotentApiServer;
let proxy: FaultProxy;
const scratch: string[] = [];

beforeAll(async () => {
  sourceUrl = await freshDatabase('idem_src');
  await withClient(sourceUrl, async (c) => {
    await c.query(`CREATE TABLE items (id serial PRIMARY KEY, code text NOT NULL, title text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await c.query(`INSERT INTO items (code, title) SELECT c, 'Item ' || c FROM unnest($1::text[]) AS c`, [CODES]);
    for (const table of ['two_way_items', 'match_items']) {
      await c.query(`CREATE TABLE ${table} (LIKE items INCLUDING ALL)`);
      await c.query(`INSERT INTO ${table} SELECT * FROM items`);
    }
  });
}, 60_000);

beforeEach(async () => {
  await proxy?.close();
  await api?.close();
  api = await startIdempotentApiServer();
  proxy = await startFaultProxy(api.origin);
});

afterAll(async () => {
  scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  await proxy?.close();
  await api?.close();
});

/**
 * How the flow finds a lost create: `header` (table items) by the idempotency key alone; `match`
 * (match_items) by the code, no header, and without the link action, so the writer itself looks a
 * reopened create up; `twoWay` (two_way_items) both, and the API's records are read back too.
 */
type Recovery = 'header' | 'match' | 'twoWay';
const TABLES: Record<Recovery, string> = { header: 'items', match: 'match_items', twoWay: 'two_way_items' };

function itemsToApi(origin: string, recovery: Recovery = 'header'): SyncFlowSpec {
  const twoWay = recovery === 'twoWay';
  return {
    direction: twoWay ? 'TwoWay' : 'OneWay',
    source: { postgres: { secretRef: { name: 'association' } } },
    target: { http: { baseUrl: origin, limits: { maxInFlight: 2, retries: 2 } } },
    entities: [
      {
        name: 'items',
        source: { table: TABLES[recovery], keys: ['id'], updatedAt: 'updated_at' },
        ...(recovery !== 'header' ? { match: [{ source: 'code', target: 'code' }] } : {}),
        ...(recovery === 'match' ? { actions: ['createInTarget', 'updateTarget'] } : {}),
        target: {
          table: 'records',
          keys: ['id'],
          ...(twoWay ? { updatedAt: 'modified' } : {}),
          resource: {
            list: { path: '/records', pagination: { style: 'PageNumber', pageSize: 100 } },
            get: { path: '/records/{key}' },
            create: { path: '/records', ...(recovery !== 'match' ? { idempotencyKeyHeader: IDEMPOTENCY_HEADER } : {}) },
            update: { path: '/records/{key}', method: 'PUT' },
            fields: [
              { name: 'id', pointer: '/id', type: 'integer', readOnly: true },
              { name: 'code', pointer: '/code' },
              { name: 'title', pointer: '/title' },
              { name: 'modified', pointer: '/modified', type: 'timestamp', readOnly: true },
            ],
          },
        },
        fields: [
          { source: 'code', target: 'code' },
          { source: 'title', target: 'title' },
        ],
      },
    ],
  } as unknown as SyncFlowSpec;
}

const codesOnServer = () => api.records().map((r) => r.code as string).sort();
const countIn = (stateUrl: string, table: string) => withClient(stateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.${table}`)).rows[0].n as number);
const run = (stateUrl: string, recovery?: Recovery) =>
  runSync({ flowId: 'default/idem', spec: itemsToApi(proxy.origin, recovery), sourceUrl, targetUrl: credentialsText({}), stateUrl, logger, mode: 'Full' });

/** `ferry run` of the flow, SIGKILLed by the failpoint named. */
async function killedRun(stateUrl: string, failpoint: string, recovery?: Recovery): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-idem-'));
  scratch.push(dir);
  const documents = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'idem' }, spec: itemsToApi(proxy.origin, recovery) },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'association' }, stringData: { url: sourceUrl } },
  ];
  writeFileSync(join(dir, 'flow.yaml'), documents.map((d) => stringify(d)).join('---\n'));
  const child = spawn(process.execPath, [FERRY, 'run', '-f', dir, '--mode', 'Full', '--state-db', stateUrl, '-o', 'json'], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', FERRY_FAILPOINT: failpoint },
  });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  child.stdout.on('data', (d) => (output += d));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  expect(exit.signal, `exit code ${exit.code}: ${output}`).toBe('SIGKILL');
}

describe('creates through an API with an idempotency-key header (no match fields)', () => {
  it('a POST whose answer was lost is sent again with the same key: one record, counted as recovered', { timeout: 60_000 }, async () => {
    const stateUrl = await freshDatabase('idem_lost');
    proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'POST' }, count: 1 });
    const report = await run(stateUrl);
    expect(report.status, report.error).toBe('Succeeded');
    expect(codesOnServer()).toEqual(CODES);
    expect(api.posts).toEqual({ created: CODES.length, replayed: 1 });
    const posts = proxy.requests.filter((r) => r.method === 'POST');
    // Seven POSTs, every one with a key, one key sent twice.
    const keys = posts.map((r) => r.headers[IDEMPOTENCY_HEADER.toLowerCase()]);
    expect(posts).toHaveLength(CODES.length + 1);
    expect(keys.every((k) => typeof k === 'string' && k.length > 0)).toBe(true);
    expect(new Set(keys).size).toBe(CODES.length);
    expect(report.totals.created).toBe(CODES.length);
    expect(report.entities[0].recoveredCreates).toBe(1);
    expect(await countIn(stateUrl, 'create_intents')).toBe(0);
    expect(await countIn(stateUrl, 'pairs')).toBe(CODES.length);
  });

  it('SIGKILL between the POSTs and the pairs commit: the intents stay, a re-run resends them and leaves one record each', { timeout: 90_000 }, async () => {
    const stateUrl = await freshDatabase('idem_kill');
    await killedRun(stateUrl, 'batch:created:1');
    expect(codesOnServer()).toEqual(CODES);
    expect(await countIn(stateUrl, 'pairs')).toBe(0);
    expect(await countIn(stateUrl, 'create_intents')).toBe(CODES.length);

    const rerun = await run(stateUrl);
    expect(rerun.status, rerun.error).toBe('Succeeded');
    expect(codesOnServer()).toEqual(CODES);
    expect(api.posts).toEqual({ created: CODES.length, replayed: CODES.length });
    expect(rerun.entities[0].recoveredCreates).toBe(CODES.length);
    expect(await countIn(stateUrl, 'create_intents')).toBe(0);
    expect(await countIn(stateUrl, 'pairs')).toBe(CODES.length);

    const again = await run(stateUrl);
    expect(again.totals.created + again.totals.updated).toBe(0);
    expect(api.records()).toHaveLength(CODES.length);
  });

  it('SIGKILL after the intents commit and before any POST: the re-run creates each record once', { timeout: 90_000 }, async () => {
    const stateUrl = await freshDatabase('idem_early');
    await killedRun(stateUrl, 'create-intents:recorded:1');
    expect(api.records()).toHaveLength(0);
    expect(await countIn(stateUrl, 'create_intents')).toBe(CODES.length);

    const rerun = await run(stateUrl);
    expect(rerun.status, rerun.error).toBe('Succeeded');
    expect(codesOnServer()).toEqual(CODES);
    expect(api.posts).toEqual({ created: CODES.length, replayed: 0 });
    expect(await countIn(stateUrl, 'create_intents')).toBe(0);
  });
});

describe('two-way, with match fields and the header', () => {
  it('SIGKILL between the POSTs and the pairs commit: the re-run pairs each record by its code, nothing is created twice on either side', { timeout: 90_000 }, async () => {
    const stateUrl = await freshDatabase('idem_two_way');
    await killedRun(stateUrl, 'two-way:created:1', 'twoWay');
    expect(codesOnServer()).toEqual(CODES);
    expect(await countIn(stateUrl, 'pairs')).toBe(0);
    expect(await countIn(stateUrl, 'create_intents')).toBe(CODES.length);

    const rerun = await run(stateUrl, 'twoWay');
    expect(rerun.status, rerun.error).toBe('Succeeded');
    expect(codesOnServer()).toEqual(CODES);
    const table = await withClient(sourceUrl, async (c) => (await c.query(`SELECT code FROM two_way_items ORDER BY code`)).rows.map((r) => r.code as string));
    expect(table).toEqual(CODES);
    expect(rerun.entities[0].recoveredCreates).toBe(CODES.length);
    expect(await countIn(stateUrl, 'create_intents')).toBe(0);
    expect(await countIn(stateUrl, 'pairs')).toBe(CODES.length);
  });
});

describe('without the header: the writer looks a reopened create up by its match fields', () => {
  it('SIGKILL after the POSTs, a title changed meanwhile: the re-run finds each record by code, creates none, and updates the changed one', { timeout: 90_000 }, async () => {
    const stateUrl = await freshDatabase('idem_match');
    await killedRun(stateUrl, 'batch:created:1', 'match');
    expect(codesOnServer()).toEqual(CODES);
    expect(await countIn(stateUrl, 'create_intents')).toBe(CODES.length);
    await withClient(sourceUrl, (c) => c.query(`UPDATE match_items SET title = 'Renamed', updated_at = now() WHERE code = 'a2'`));

    const rerun = await run(stateUrl, 'match');
    expect(rerun.status, rerun.error).toBe('Succeeded');
    expect(codesOnServer()).toEqual(CODES);
    expect(api.posts).toEqual({ created: CODES.length, replayed: 0 });
    expect(api.records().find((r) => r.code === 'a2')?.title).toBe('Renamed');
    expect(rerun.entities[0].recoveredCreates).toBe(CODES.length);
    expect(await countIn(stateUrl, 'create_intents')).toBe(0);

    const again = await run(stateUrl, 'match');
    expect(again.totals.created + again.totals.updated).toBe(0);
  });
});
