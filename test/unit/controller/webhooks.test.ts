import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import type { Webhook } from '../../../src/api/webhook.js';
import { miniFlowSpec } from '../../helpers/mini-flow.js';
import {
  ReplayGuard,
  requestLabel,
  sameSecret,
  verifyDelivery,
  webhookJob,
  webhookJobName,
  webhookRun,
  webhookSlot,
} from '../../../src/controller/webhooks.js';

const SECRET = 'whsec-unit-test-0123456789';
const body = Buffer.from('{"id":42,"title":"Sommerfest"}');
const hmac = (payload: string | Buffer, encoding: 'hex' | 'base64' = 'hex', secret = SECRET) => createHmac('sha256', secret).update(payload).digest(encoding);
const hmacWebhook: Webhook = { secretRef: { name: 'hook' }, authentication: 'HmacSha256' };
const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const nowSeconds = String(now / 1000);

const verify = (webhook: Webhook, headers: Record<string, string>, payload: Buffer = body, at = now, replays = new ReplayGuard()) =>
  verifyDelivery(webhook, SECRET, headers, payload, at, replays);
const reason = (verdict: ReturnType<typeof verify>) => (verdict.ok ? 'ok' : `${verdict.rejection.status} ${verdict.rejection.reason}`);

describe('webhook signature check', () => {
  it('accepts the HMAC-SHA256 of the raw body, hex with or without sha256=, in the default header', () => {
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': `sha256=${hmac(body)}` }))).toBe('ok');
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': hmac(body) }))).toBe('ok');
  });

  it('refuses a missing signature, another secret, a changed body and a signature of re-serialised JSON', () => {
    expect(reason(verify(hmacWebhook, {}))).toBe('401 unsigned request');
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': `sha256=${hmac(body, 'hex', 'other-secret')}` }))).toBe('401 bad signature');
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': `sha256=${hmac(body)}` }, Buffer.from('{"id":43,"title":"Sommerfest"}')))).toBe('401 bad signature');
    // The signature covers the bytes as sent, not a parsed-and-printed copy.
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': hmac(JSON.stringify(JSON.parse(body.toString()), null, 1)) }))).toBe('401 bad signature');
    expect(reason(verify(hmacWebhook, { 'x-ferry-signature': 'sha256=' }))).toBe('401 bad signature');
  });

  it('reads a named header in Base64 (WooCommerce style)', () => {
    const woo: Webhook = { ...hmacWebhook, signatureHeader: 'X-WC-Webhook-Signature', signatureEncoding: 'Base64' };
    expect(reason(verify(woo, { 'x-wc-webhook-signature': hmac(body, 'base64') }))).toBe('ok');
    expect(reason(verify(woo, { 'x-wc-webhook-signature': hmac(body, 'hex') }))).toBe('401 bad signature');
    expect(reason(verify(woo, { 'x-ferry-signature': hmac(body, 'base64') }))).toBe('401 unsigned request');
  });

  it('with a timestamp header: signs "<timestamp>.<body>", refuses stale, future, missing and replayed deliveries', () => {
    const timed: Webhook = { ...hmacWebhook, timestampHeader: 'X-Ferry-Timestamp', toleranceSeconds: 300 };
    const signed = (seconds: string) => ({ 'x-ferry-signature': `sha256=${hmac(`${seconds}.${body}`)}`, 'x-ferry-timestamp': seconds });
    const replays = new ReplayGuard();
    expect(reason(verify(timed, signed(nowSeconds), body, now, replays))).toBe('ok');
    expect(reason(verify(timed, signed(nowSeconds), body, now + 1000, replays))).toBe('401 replayed delivery');
    expect(reason(verify(timed, signed(String(now / 1000 - 301))))).toBe('401 timestamp outside the tolerance');
    expect(reason(verify(timed, signed(String(now / 1000 + 301))))).toBe('401 timestamp outside the tolerance');
    expect(reason(verify(timed, signed(String(now / 1000 - 299))))).toBe('ok');
    expect(reason(verify(timed, { 'x-ferry-signature': signed(nowSeconds)['x-ferry-signature'] }))).toBe('401 missing or malformed timestamp');
    // A fresh timestamp does not make an old signature valid: the time is signed.
    expect(reason(verify(timed, { ...signed(String(now / 1000 - 10)), 'x-ferry-timestamp': nowSeconds }))).toBe('401 bad signature');
    // The body alone is not enough once the sender signs the time.
    expect(reason(verify(timed, { 'x-ferry-signature': `sha256=${hmac(body)}`, 'x-ferry-timestamp': nowSeconds }))).toBe('401 bad signature');
  });

  it('forgets a replayed signature after the window, and on request (a delivery that could not be acted on)', () => {
    const replays = new ReplayGuard();
    expect(replays.admit('a', now + 1000, now)).toBe(true);
    expect(replays.admit('a', now + 1000, now + 500)).toBe(false);
    expect(replays.admit('a', now + 3000, now + 1000)).toBe(true);
    replays.forget('a');
    expect(replays.admit('a', now + 3000, now + 1000)).toBe(true);
    const small = new ReplayGuard(2);
    expect([small.admit('x', now + 10, now), small.admit('y', now + 10, now), small.admit('z', now + 10, now)]).toEqual([true, true, false]);
  });

  it('SharedSecret compares the header with the secret', () => {
    const shared: Webhook = { secretRef: { name: 'hook' }, authentication: 'SharedSecret', signatureHeader: 'X-Token' };
    expect(reason(verify(shared, { 'x-token': SECRET }))).toBe('ok');
    expect(reason(verify(shared, { 'x-token': `${SECRET}x` }))).toBe('401 wrong shared secret');
    expect(reason(verify(shared, { 'x-token': SECRET.slice(0, -1) }))).toBe('401 wrong shared secret');
    expect(sameSecret('', '')).toBe(true);
    expect(sameSecret('a', '')).toBe(false);
  });
});

describe('the run a delivery asks for', () => {
  const record: Webhook = { ...hmacWebhook, run: 'Record', record: { entity: 'events', keyPointer: '/data/id' } };

  it('Incremental by default, whatever the body', () => {
    expect(webhookRun(hmacWebhook, Buffer.from('not json'))).toEqual({ mode: 'Incremental' });
  });

  it('Record of the key at the pointer (string or number)', () => {
    expect(webhookRun(record, Buffer.from('{"data":{"id":42}}'))).toEqual({ mode: 'Record', record: { entity: 'events', key: '42' } });
    expect(webhookRun(record, Buffer.from('{"data":{"id":"ev-7"}}'))).toEqual({ mode: 'Record', record: { entity: 'events', key: 'ev-7' } });
  });

  it('refuses a body without a usable key', () => {
    expect(webhookRun(record, Buffer.from('{"id":42}'))).toEqual({ status: 422, reason: 'no record key (string or number) at /data/id in the body' });
    expect(webhookRun(record, Buffer.from('{"data":{"id":{"x":1}}}'))).toMatchObject({ status: 422 });
    expect(webhookRun(record, Buffer.from('{"data":{"id":""}}'))).toMatchObject({ status: 422 });
    expect(webhookRun(record, Buffer.from('{"data":'))).toEqual({ status: 400, reason: 'body is not JSON' });
  });
});

function existing(slot: number, phase?: string, deleting = false): SyncJob {
  const job = webhookJob('ns', 'site', { mode: 'Incremental' }, slot);
  return {
    ...job,
    metadata: { ...job.metadata, ...(deleting ? { deletionTimestamp: new Date(now).toISOString() } : {}) },
    ...(phase ? { status: { phase: phase as 'Running' } } : {}),
  };
}

describe('the SyncJob a delivery becomes', () => {
  it('is named by flow, run and slot, within 63 characters, labelled as a webhook request', () => {
    const run = { mode: 'Record' as const, record: { entity: 'events', key: '42' } };
    const job = webhookJob('ns', 'site', run, 3);
    expect(job.metadata.name).toBe(webhookJobName('site', run, 3));
    expect(job.metadata.name).toMatch(/^site-wh-[0-9a-f]{10}-3$/);
    expect((job.metadata as { generateName?: string }).generateName).toBeUndefined();
    expect(job.metadata.namespace).toBe('ns');
    expect(job.metadata.labels).toMatchObject({
      'ferry.dev/flow': 'site',
      'ferry.dev/mode': 'Record',
      'ferry.dev/requested-via': 'webhook',
      'ferry.dev/webhook-request': requestLabel(run),
      'ferry.dev/webhook-slot': '3',
    });
    expect(job.spec).toEqual({ flowRef: { name: 'site' }, mode: 'Record', record: { entity: 'events', key: '42' } });
    const long = webhookJobName('a'.repeat(253), run, 999_999);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(webhookJobName('site', { mode: 'Record', record: { entity: 'events', key: '43' } }, 3)).not.toBe(job.metadata.name);
    expect(webhookJobName('site', { mode: 'Incremental' }, 0)).not.toBe(webhookJobName('site', { mode: 'Incremental' }, 1));
  });

  it('joins the newest waiting slot, else creates the next one', () => {
    expect(webhookSlot([])).toEqual({ create: 0 });
    expect(webhookSlot([existing(0)])).toEqual({ join: existing(0) });
    expect(webhookSlot([existing(0, 'Queued')])).toMatchObject({ join: { metadata: { name: 'site-wh-' + requestLabel({ mode: 'Incremental' }).slice(0, 10) + '-0' } } });
    expect(webhookSlot([existing(0, 'Pending')])).toHaveProperty('join');
    for (const started of ['Scheduled', 'Running', 'Succeeded', 'Failed', 'Rejected']) expect(webhookSlot([existing(0, started)])).toEqual({ create: 1 });
    expect(webhookSlot([existing(1, 'Succeeded'), existing(3, 'Running'), existing(2, 'Succeeded')])).toEqual({ create: 4 });
    expect(webhookSlot([existing(4, 'Running'), existing(5, 'Queued')])).toEqual({ join: existing(5, 'Queued') });
    expect(webhookSlot([existing(2, undefined, true)])).toEqual({ create: 3 });
  });
});

describe('spec.webhook in a SyncFlow', () => {
  const flowWith = (webhook: Webhook, concurrencyPolicy?: string): SyncFlow =>
    ({
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncFlow',
      metadata: { name: 'crm' },
      spec: { ...miniFlowSpec({ source: { postgres: { secretRef: { name: 's' } } }, target: { postgres: { secretRef: { name: 't' } } } }), webhook, ...(concurrencyPolicy ? { concurrencyPolicy } : {}) },
    }) as SyncFlow;
  const problems = (webhook: Webhook, concurrencyPolicy = 'Queue') =>
    validateSyncFlow(flowWith(webhook, concurrencyPolicy)).filter((e) => e.path.startsWith('spec.webhook') || e.path === 'spec.concurrencyPolicy');

  it('needs concurrencyPolicy Queue, so a delivery during a run waits instead of being rejected or cancelling it', () => {
    expect(validateSyncFlow(flowWith(hmacWebhook)).map((e) => e.path)).toEqual(['spec.concurrencyPolicy']);
    expect(problems(hmacWebhook, 'Forbid')).toEqual([{ path: 'spec.concurrencyPolicy', message: 'must be Queue with spec.webhook, so a delivery during a run waits for it (Forbid would reject it)' }]);
    expect(problems(hmacWebhook, 'Replace')[0].message).toContain('Replace would cancel the running sync');
    expect(validateSyncFlow(flowWith(hmacWebhook, 'Queue'))).toEqual([]);
  });

  it('a Record run names an entity of the flow', () => {
    expect(problems({ ...hmacWebhook, run: 'Record', record: { entity: 'people', keyPointer: '/id' } })).toEqual([]);
    expect(problems({ ...hmacWebhook, run: 'Record', record: { entity: 'nosuch', keyPointer: '/id' } })).toEqual([
      { path: 'spec.webhook.record.entity', message: 'no entity named "nosuch" in this flow' },
    ]);
    expect(problems({ ...hmacWebhook, run: 'Record' })).toEqual([{ path: 'spec.webhook.record', message: 'required when run is Record' }]);
    expect(problems(hmacWebhook)).toEqual([]);
  });
});
