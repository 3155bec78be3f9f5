import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { generateAssociation } from '../../../src/demo/index.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { eventsToWordPress, extraEventMetaPlugin, wordpressCredentials, wordpressRecords, wordpressSystem } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../helpers/wordpress-server.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';

/**
 * Crash safety of creates through an API, against a real WordPress behind the tests' FAULT INJECTOR:
 * `ferry run` is SIGKILLed while WordPress has created posts whose answers (and so whose pairs) the
 * run never got; the next run finds them by their match field, so each event exists exactly once.
 * Also the association's people as WordPress users (match by e-mail, random initial passwords).
 */
const logger = createLogger({ level: 'silent', pretty: false });
const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
let wp: RunningWordPress;
let proxy: FaultProxy;
let sourceUrl: string;
const scratch: string[] = [];

beforeAll(async () => {
  wp = await startWordPress({ extraPlugin: extraEventMetaPlugin() });
  proxy = await startFaultProxy(wp.siteUrl);
  sourceUrl = await freshDatabase('wp_crash_src');
  await generateAssociation(sourceUrl, { people: 30 });
}, 180_000);

afterAll(async () => {
  scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  await proxy?.close();
  await wp?.close();
});

function flowDir(spec: SyncFlowSpec): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wp-crash-'));
  scratch.push(dir);
  const documents = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'website' }, spec },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'association' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wordpress' }, stringData: { username: wp.username, password: wp.applicationPassword } },
  ];
  writeFileSync(join(dir, 'flow.yaml'), documents.map((d) => stringify(d)).join('---\n'));
  return dir;
}

const until = async (test: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('SIGKILL between the POST and the pairs commit', () => {
  it('a re-run leaves exactly one post per event', { timeout: 150_000 }, async () => {
    const stateUrl = await freshDatabase('wp_crash_state');
    const spec = eventsToWordPress(proxy.origin);
    const events = await withClient(sourceUrl, async (c) => (await c.query(`SELECT code FROM events`)).rows.map((r) => r.code as string));
    // WordPress handles this create at once; its answer is held back, so the run waits for it with the batch unpaired.
    proxy.inject({ kind: 'slow', ms: 8_000 }, { match: { method: 'POST', path: /ferry_event/ }, count: 1 });
    let child: ChildProcess | undefined;
    const exited = new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
      child = spawn(process.execPath, [FERRY, 'run', '-f', flowDir(spec), '--mode', 'Full', '--state-db', stateUrl, '-o', 'json'], {
        env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.stdout!.resume();
      child.on('exit', (_code, signal) => resolve({ signal, stderr }));
    });
    await until(() => proxy.requests.some((r) => r.fault === 'slow'), 60_000);
    // Let the other creates of the batch reach WordPress too.
    await until(() => proxy.reached('POST') >= events.length, 30_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1_000));
    child!.kill('SIGKILL');
    const killed = await exited;
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const before = await wordpressRecords(wp, EVENT_POST_TYPE);
    expect(before.length).toBeGreaterThan(0);
    const pairs = await withClient(stateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.pairs`)).rows[0].n);
    expect(pairs).toBe(0);
    // Every create of the batch was recorded (ferry.create_intents) before its POST went out.
    const intents = () => withClient(stateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.create_intents`)).rows[0].n);
    expect(await intents()).toBeGreaterThanOrEqual(before.length);

    const rerun = await runSync({ flowId: 'default/website', spec, sourceUrl, targetUrl: wordpressCredentials(wp), stateUrl, logger, mode: 'Full' });
    expect(rerun.status, rerun.error).toBe('Succeeded');
    expect(rerun.totals.linked).toBe(before.length);
    expect(rerun.entities[0].recoveredCreates).toBe(before.length);
    expect(await intents()).toBe(0);
    const after = await wordpressRecords(wp, EVENT_POST_TYPE);
    const codes = after.map((p) => (p.meta as Record<string, unknown>).event_code);
    expect(codes.sort()).toEqual([...events].sort());
  });
});

describe('PostgreSQL people -> WordPress users', () => {
  it('creates a user per person with an e-mail (random password), and a second Full writes nothing', { timeout: 120_000 }, async () => {
    const stateUrl = await freshDatabase('wp_users_state');
    const spec = {
      direction: 'OneWay',
      source: { postgres: { secretRef: { name: 'association' } } },
      target: wordpressSystem(wp.siteUrl),
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], updatedAt: 'updated_at', conditions: [{ field: 'email', operator: 'NotNull' }] },
          target: { table: 'users', keys: ['id'], resource: { profile: 'users' } },
          match: [{ source: 'email', target: 'email', normalize: 'LowerTrim' }],
          fields: [
            { source: 'email', target: 'username' },
            { source: 'email', target: 'email' },
            { source: 'first_name', target: 'first_name' },
            { source: 'last_name', target: 'last_name' },
          ],
        },
      ],
    } as SyncFlowSpec;
    const people = await withClient(sourceUrl, async (c) => (await c.query(`SELECT lower(email) AS email FROM people WHERE email IS NOT NULL`)).rows.map((r) => r.email as string));
    const request = { flowId: 'test/wp-users', spec, sourceUrl, targetUrl: wordpressCredentials(wp), stateUrl, logger };
    const report = await runSync({ ...request, mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created + report.totals.rejected).toBe(people.length);
    const users = await wordpressRecords(wp, 'users');
    for (const email of people) {
      if (report.rejectedSamples.some((r) => r.reason.includes(email))) continue;
      expect(users.some((u) => String(u.email).toLowerCase() === email), email).toBe(true);
    }
    const again = await runSync({ ...request, mode: 'Full' });
    expect(again.totals.created + again.totals.updated + again.totals.deleted).toBe(0);
  });
});
