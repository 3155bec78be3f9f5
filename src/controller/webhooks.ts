/**
 * Incoming webhooks, as pure functions: is a delivery authentic (and fresh, when the sender signs a
 * time), what run does it ask for, and which SyncJob does it become. The server around it is thin.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { buildSyncJob, LABEL_FLOW, LABEL_REQUESTED_VIA } from '../actions/sync-jobs.js';
import type { SyncJob, SyncJobSpec } from '../api/syncjob.js';
import { WEBHOOK_DEFAULTS, type Webhook } from '../api/webhook.js';
import { getPointer } from '../connectors/http/json-pointer.js';

/** Bodies beyond this are refused (413) before anything else is done with them. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;
export const LABEL_WEBHOOK_REQUEST = 'ferry.dev/webhook-request';
export const LABEL_WEBHOOK_SLOT = 'ferry.dev/webhook-slot';

export type Rejection = { status: 400 | 401 | 422; reason: string };
export type WebhookRun = Pick<SyncJobSpec, 'mode' | 'record'>;
type Headers = Record<string, string | string[] | undefined>;

/** Equal-time comparison of two strings of any length (compares their SHA-256 digests). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The HMAC-SHA256 a sender puts in the signature header (without the optional "sha256=" prefix). */
export function hmacSignature(webhook: Pick<Webhook, 'signatureEncoding'>, secret: string, body: Buffer | string, timestamp?: string): string {
  const hmac = createHmac('sha256', secret);
  if (timestamp !== undefined) hmac.update(`${timestamp}.`);
  return hmac.update(body).digest(webhook.signatureEncoding === 'Base64' ? 'base64' : 'hex');
}

/** Signatures seen within the tolerance window: a second delivery of one is a replay. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly capacity = 10_000) {}

  /** False when the signature was seen before (or the guard is full of live entries). */
  admit(signature: string, expiresAtMs: number, nowMs: number): boolean {
    for (const [key, expiry] of this.seen) if (expiry <= nowMs) this.seen.delete(key);
    if (this.seen.has(signature) || this.seen.size >= this.capacity) return false;
    this.seen.set(signature, expiresAtMs);
    return true;
  }

  /** A delivery that could not be acted on may be retried with the same signature. */
  forget(signature: string): void {
    this.seen.delete(signature);
  }
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export type Verdict = { ok: true; replayKey?: string } | { ok: false; rejection: Rejection };
const refuse = (reason: string): Verdict => ({ ok: false, rejection: { status: 401, reason } });

/**
 * Checks a delivery against the flow's webhook settings, on the raw body as received. With a
 * timestampHeader the signature covers "<timestamp>.<body>", so a captured delivery is refused after
 * the tolerance, and within it by the ReplayGuard. Without one (or with SharedSecret) a replay can
 * at most start a run, which then joins a waiting one.
 */
export function verifyDelivery(webhook: Webhook, secret: string, headers: Headers, body: Buffer, nowMs: number, replays: ReplayGuard): Verdict {
  const given = header(headers, webhook.signatureHeader ?? WEBHOOK_DEFAULTS.signatureHeader)?.trim();
  if (!given) return refuse('unsigned request');
  if (webhook.authentication === 'SharedSecret') return sameSecret(given, secret) ? { ok: true } : refuse('wrong shared secret');
  const signature = given.startsWith('sha256=') ? given.slice('sha256='.length) : given;
  if (!webhook.timestampHeader) return sameSecret(signature, hmacSignature(webhook, secret, body)) ? { ok: true } : refuse('bad signature');
  const timestamp = header(headers, webhook.timestampHeader)?.trim();
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return refuse('missing or malformed timestamp');
  if (!sameSecret(signature, hmacSignature(webhook, secret, body, timestamp))) return refuse('bad signature');
  const toleranceMs = (webhook.toleranceSeconds ?? WEBHOOK_DEFAULTS.toleranceSeconds) * 1000;
  const signedAtMs = Number(timestamp) * 1000;
  if (Math.abs(nowMs - signedAtMs) > toleranceMs) return refuse('timestamp outside the tolerance');
  if (!replays.admit(signature, signedAtMs + toleranceMs, nowMs)) return refuse('replayed delivery');
  return { ok: true, replayKey: signature };
}

/** The run a verified delivery asks for: the flow's webhook.run, and for Record the key at record.keyPointer. */
export function webhookRun(webhook: Webhook, body: Buffer): WebhookRun | Rejection {
  if ((webhook.run ?? WEBHOOK_DEFAULTS.run) === 'Incremental') return { mode: 'Incremental' };
  const { entity, keyPointer } = webhook.record!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, reason: 'body is not JSON' };
  }
  let key: unknown;
  try {
    key = getPointer(parsed, keyPointer);
  } catch {
    key = undefined;
  }
  const keyText = typeof key === 'number' && Number.isFinite(key) ? String(key) : key;
  if (typeof keyText !== 'string' || !keyText || keyText.length > 1024) return { status: 422, reason: `no record key (string or number) at ${keyPointer} in the body` };
  return { mode: 'Record', record: { entity, key: keyText } };
}

/** A label value naming the run a delivery asks for, so SyncJobs for the same run are found. */
export function requestLabel(run: WebhookRun): string {
  const text = run.mode === 'Record' ? `Record:${run.record!.entity}/${run.record!.key}` : run.mode;
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** Selects the flow's webhook SyncJobs for the same run. */
export function webhookJobSelector(flow: string, run: WebhookRun): string {
  return `${LABEL_FLOW}=${flow},${LABEL_REQUESTED_VIA}=webhook,${LABEL_WEBHOOK_REQUEST}=${requestLabel(run)}`;
}

/**
 * Slot n of a run is always named the same, so two deliveries (in one controller or in two
 * replicas) that both decide to create slot n collide on the name: the second gets AlreadyExists and
 * joins the first. At most 63 characters (the Job and its pods carry the name in a label).
 */
export function webhookJobName(flow: string, run: WebhookRun, slot: number): string {
  return `${flow.slice(0, 36).replace(/[-.]+$/, '')}-wh-${requestLabel(run).slice(0, 10)}-${slot}`;
}

export function webhookJob(namespace: string, flow: string, run: WebhookRun, slot: number): SyncJob {
  // requestedBy is an e-mail address; the requested-via label says it came from a webhook.
  const job = buildSyncJob({ namespace, flow, requestedVia: 'webhook' }, run);
  const { generateName: _generated, ...metadata } = job.metadata as SyncJob['metadata'] & { generateName?: string };
  return {
    ...job,
    metadata: {
      ...metadata,
      name: webhookJobName(flow, run, slot),
      labels: { ...job.metadata.labels, [LABEL_WEBHOOK_REQUEST]: requestLabel(run), [LABEL_WEBHOOK_SLOT]: String(slot) },
    },
  };
}

const WAITING = new Set([undefined, 'Pending', 'Queued']);

function slotOf(job: SyncJob): number {
  const slot = Number(job.metadata.labels?.[LABEL_WEBHOOK_SLOT]);
  return Number.isSafeInteger(slot) && slot >= 0 ? slot : -1;
}

/**
 * What a delivery does, given the SyncJobs for its run: join the newest one while it waits (not yet
 * started, so it will read the change), else create the next slot. A started run does not absorb
 * it (it may have read past the change): one follow-up waits, and further deliveries join that.
 */
export function webhookSlot(existing: SyncJob[]): { join: SyncJob } | { create: number } {
  const newest = existing.reduce<SyncJob | undefined>((best, job) => (!best || slotOf(job) > slotOf(best) ? job : best), undefined);
  if (!newest) return { create: 0 };
  if (!newest.metadata.deletionTimestamp && WAITING.has(newest.status?.phase)) return { join: newest };
  return { create: slotOf(newest) + 1 };
}
