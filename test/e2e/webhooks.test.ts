/**
 * Incoming webhooks against a real kube-apiserver: two controllers (the leader and a standby, as two
 * replicas behind one Service) each serve POST /webhooks/<ns>/<flow>; Jobs run through the JobRunner.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Webhook } from '../../src/api/webhook.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { withClient } from '../helpers/databases.js';
import { createSecret, flowManifest, holdSourceTable, jobManifest, miniFlowDatabases, namespaceWithStateDb, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';

const ns = 'e2e-webhooks';
const SECRET = randomBytes(24).toString('hex');
let kube: Kube;
let leader: Controller;
let standby: Controller;
let runner: JobRunner;
const logLines: string[] = [];
const dbs: Record<string, { sourceUrl: string; targetUrl: string }> = {};

const timed: Webhook = { secretRef: { name: 'hook' }, authentication: 'HmacSha256', timestampHeader: 'X-Ferry-Timestamp' };
const bodyOnly: Webhook = { secretRef: { name: 'hook' }, authentication: 'HmacSha256' };

function signedHeaders(body: string, options: { secret?: string; at?: number; timestamp?: boolean } = {}): Record<string, string> {
  const seconds = String(Math.floor((options.at ?? Date.now()) / 1000));
  const payload = options.timestamp === false ? body : `${seconds}.${body}`;
  const signature = `sha256=${createHmac('sha256', options.secret ?? SECRET).update(payload).digest('hex')}`;
  return { 'x-ferry-signature': signature, ...(options.timestamp === false ? {} : { 'x-ferry-timestamp': seconds }) };
}

async function deliver(controller: Controller, flow: string, body: string, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${controller.webhookPort}/webhooks/${ns}/${flow}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'POST' ? { body } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A body sent in chunks without Content-Length: the limit applies while it streams in. */
function chunkedStatus(controller: Controller, flow: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: controller.webhookPort, method: 'POST', path: `/webhooks/${ns}/${flow}`, headers: { 'transfer-encoding': 'chunked', ...signedHeaders(body) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 8192) req.write(body.slice(at, at + 8192));
    req.end();
  });
}

const webhookJobs = async (flow: string) =>
  (await kube.list<SyncJob>('SyncJob', ns, `ferry.dev/flow=${flow},ferry.dev/requested-via=webhook`)).items;
const allJobs = async (flow: string) => (await kube.list<SyncJob>('SyncJob', ns, undefined)).items.filter((j) => j.spec.flowRef.name === flow);
const targetPeople = (flow: string) =>
  withClient(dbs[flow].targetUrl, async (c) => (await c.query<{ full_name: string }>('SELECT full_name FROM people ORDER BY full_name')).rows.map((r) => r.full_name));

async function createFlow(name: string, webhook: Webhook, extra: Record<string, unknown> = {}): Promise<void> {
  dbs[name] = await miniFlowDatabases(kube, ns, name);
  await kube.create('SyncFlow', flowManifest(ns, name, { webhook, concurrencyPolicy: 'Queue', ...extra }));
  // Both replicas answer from their caches.
  await waitFor(`${name} in both caches`, async () => {
    const known = await Promise.all([leader, standby].map((c) => deliver(c, name, '{}', {})));
    return known.every((r) => r.status === 401);
  });
}

beforeAll(async () => {
  let stateUrl: string;
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_webhook_state'));
  await createSecret(kube, ns, 'hook', { secret: SECRET });
  const sink = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  const webhookOptions = { webhookPort: 0, webhookHost: '127.0.0.1' };
  leader = await startController(ns, stateUrl, { ...webhookOptions, logger: pino({ level: 'debug' }, sink) });
  await waitFor('leader', async () => leader.isLeader);
  standby = await startController(ns, stateUrl, { ...webhookOptions, logger: pino({ level: 'debug' }, sink) });
  runner = await startJobRunner(ns);
  await Promise.all([
    createFlow('crm-hook', timed),
    createFlow('people-hook', { ...bodyOnly, run: 'Record', record: { entity: 'people', keyPointer: '/person/id' } }),
    createFlow('burst-hook', timed),
  ]);
}, 120_000);

afterAll(async () => {
  await standby?.stop();
  await leader?.stop();
  await runner?.stop();
});

describe('webhooks on the controller', () => {
  it('refuses unsigned, badly signed, stale and oversized deliveries with nothing created', async () => {
    const body = '{"event":"updated"}';
    const refused = [
      await deliver(leader, 'crm-hook', body, {}),
      await deliver(leader, 'crm-hook', body, signedHeaders(body, { secret: 'not-the-secret' })),
      await deliver(leader, 'crm-hook', body, { ...signedHeaders(body), 'x-ferry-signature': `sha256=${'0'.repeat(64)}` }),
      await deliver(leader, 'crm-hook', '{"event":"updated!"}', signedHeaders(body)),
      await deliver(leader, 'crm-hook', body, signedHeaders(body, { at: Date.now() - 10 * 60_000 })),
      await deliver(standby, 'crm-hook', body, signedHeaders(body, { timestamp: false })),
    ];
    expect(refused.map((r) => `${r.status} ${r.json.error}`)).toEqual([
      '401 unsigned request',
      '401 bad signature',
      '401 bad signature',
      '401 bad signature',
      '401 timestamp outside the tolerance',
      '401 missing or malformed timestamp',
    ]);
    const big = 'x'.repeat(70 * 1024);
    expect((await deliver(leader, 'crm-hook', big, signedHeaders(big))).status).toBe(413);
    expect(await chunkedStatus(leader, 'crm-hook', big)).toBe(413);
    expect((await deliver(leader, 'no-such-flow', body, signedHeaders(body))).status).toBe(404);
    expect((await deliver(leader, 'crm-hook', body, signedHeaders(body), 'GET')).status).toBe(405);
    expect(await allJobs('crm-hook')).toEqual([]);
  });

  it('a signed delivery starts one Incremental run; the same delivery again is a replay', async () => {
    const body = '{"event":"updated","id":10}';
    const headers = signedHeaders(body);
    const accepted = await deliver(leader, 'crm-hook', body, headers);
    expect(accepted).toMatchObject({ status: 202, json: { coalesced: false } });
    const name = accepted.json.syncJob as string;
    expect((await deliver(leader, 'crm-hook', body, headers)).json).toEqual({ error: 'replayed delivery' });
    // Admitted and handed to a Job; the Record test below follows a webhook run to its data.
    const job = await waitForPhase(kube, ns, name, ['Scheduled', 'Running', 'Succeeded']);
    expect(job.spec).toMatchObject({ flowRef: { name: 'crm-hook' }, mode: 'Incremental' });
    expect(job.metadata.labels?.['ferry.dev/requested-via']).toBe('webhook');
    expect((await allJobs('crm-hook')).map((j) => j.metadata.name)).toEqual([name]);
  });

  it('a flow with run Record syncs the one record named in the body', async () => {
    const body = JSON.stringify({ action: 'person.updated', person: { id: 12, name: 'Cy' } });
    const accepted = await deliver(standby, 'people-hook', body, signedHeaders(body, { timestamp: false }));
    expect(accepted).toMatchObject({ status: 202, json: { coalesced: false } });
    const job = await waitForPhase(kube, ns, accepted.json.syncJob as string, ['Succeeded', 'Failed']);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(job.spec).toMatchObject({ mode: 'Record', record: { entity: 'people', key: '12' } });
    expect(await targetPeople('people-hook')).toEqual(['Cy']);
    const keyless = JSON.stringify({ action: 'person.updated' });
    expect(await deliver(leader, 'people-hook', keyless, signedHeaders(keyless, { timestamp: false }))).toMatchObject({ status: 422 });
    expect(await allJobs('people-hook')).toHaveLength(1);
  });

  it('a burst of deliveries to both replicas while a run is busy creates one queued SyncJob, which then starts', async () => {
    const release = await holdSourceTable(dbs['burst-hook'].sourceUrl);
    try {
      await kube.create('SyncJob', jobManifest(ns, 'burst-blocker', 'burst-hook', { mode: 'Full' }));
      await waitForPhase(kube, ns, 'burst-blocker', ['Running']);
      const deliveries = Array.from({ length: 16 }, (_, i) => {
        const body = JSON.stringify({ event: 'updated', delivery: i });
        return deliver(i % 2 ? standby : leader, 'burst-hook', body, signedHeaders(body));
      });
      const answers = await Promise.all(deliveries);
      expect(answers.map((a) => a.status)).toEqual(Array(16).fill(202));
      const names = new Set(answers.map((a) => a.json.syncJob));
      expect(names.size).toBe(1);
      expect(answers.filter((a) => a.json.coalesced === false)).toHaveLength(1);
      // At least two deliveries decided to create the same slot at once; the name made the later one join.
      expect(logLines.some((line) => line.includes('"flow":"burst-hook"') && line.includes('"nameTaken":true'))).toBe(true);
      const jobs = await webhookJobs('burst-hook');
      expect(jobs.map((j) => j.metadata.name)).toEqual([...names]);
      const waiting = await waitForPhase(kube, ns, jobs[0].metadata.name, ['Queued']);
      expect(waiting.spec.mode).toBe('Incremental');
    } finally {
      await release();
    }
    const [only] = await webhookJobs('burst-hook');
    await waitForPhase(kube, ns, only.metadata.name, ['Scheduled', 'Running', 'Succeeded']);
    // Once that run has started, the next delivery gets a run of its own.
    const body = '{"event":"later"}';
    const later = await deliver(leader, 'burst-hook', body, signedHeaders(body));
    expect(later).toMatchObject({ status: 202, json: { coalesced: false } });
    expect(later.json.syncJob).not.toBe(only.metadata.name);
    expect(await webhookJobs('burst-hook')).toHaveLength(2);
  });

  it('logs no secret and no signature', () => {
    const log = logLines.join('');
    expect(log).toContain('webhook delivery refused');
    expect(log).toContain('webhook delivery accepted');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('sha256=');
  });
});
