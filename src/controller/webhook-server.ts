import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SyncFlow } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import { WEBHOOK_DEFAULTS } from '../api/webhook.js';
import { errorMessage, isStatus, type Kube } from './kube.js';
import { LABEL_WEBHOOK_REQUEST, ReplayGuard, requestLabel, verifyDelivery, WEBHOOK_MAX_BODY_BYTES, webhookJob, webhookJobSelector, webhookRun, webhookSlot, type WebhookRun } from './webhooks.js';

const ROUTE = /^\/webhooks\/([a-z0-9][-a-z0-9]{0,62})\/([a-z0-9][-.a-z0-9]{0,252})$/;
/** A sender gets this long to send its headers and body (slow senders hold no socket for minutes). */
const REQUEST_TIMEOUT_MS = 10_000;

class TooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new TooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) }).end(`${JSON.stringify(body)}\n`);
}

export interface WebhookServerOptions {
  port: number;
  host: string;
  kube: Kube;
  logger: Logger;
  /** The flow from the controller's cache (no API call for unauthenticated traffic). */
  findFlow: (namespace: string, name: string) => SyncFlow | undefined;
  /** The controller's namespace, when it watches only one. */
  namespace?: string;
}

/** Creates slot n of the run, or joins it when another delivery (maybe in another replica) just did. */
async function createOrJoin(kube: Kube, namespace: string, flow: string, run: WebhookRun): Promise<{ syncJob: string; coalesced: boolean; nameTaken?: true }> {
  const existing = await kube.list<SyncJob>('SyncJob', namespace, webhookJobSelector(flow, run));
  const slot = webhookSlot(existing.items);
  if ('join' in slot) return { syncJob: slot.join.metadata.name, coalesced: true };
  const job = webhookJob(namespace, flow, run, slot.create);
  try {
    const created = await kube.create('SyncJob', job);
    return { syncJob: created.metadata.name, coalesced: false };
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
    const other = await kube.get<SyncJob>('SyncJob', namespace, job.metadata.name);
    if (other.metadata.labels?.[LABEL_WEBHOOK_REQUEST] !== requestLabel(run)) throw new Error(`SyncJob ${job.metadata.name} exists for another request`);
    return { syncJob: job.metadata.name, coalesced: true, nameTaken: true };
  }
}

/** POST /webhooks/<namespace>/<flow>: checks the delivery and creates (or joins) a SyncJob. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const { kube, logger } = options;
  const replays = new ReplayGuard();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = ROUTE.exec((req.url ?? '/').split('?')[0]);
    if (!route) return reply(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST only' });
    const [, namespace, name] = route;
    const body = await readBody(req, WEBHOOK_MAX_BODY_BYTES);
    const flow = options.namespace && options.namespace !== namespace ? undefined : options.findFlow(namespace, name);
    const webhook = flow?.spec.webhook;
    if (!webhook) return reply(res, 404, { error: 'no such flow with a webhook' });
    let secret: string | undefined;
    try {
      secret = (await kube.readSecret(namespace, webhook.secretRef.name))[webhook.secretRef.key ?? WEBHOOK_DEFAULTS.secretKey];
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    if (!secret) {
      logger.warn({ namespace, flow: name, secret: webhook.secretRef.name }, 'webhook Secret or its key is missing');
      return reply(res, 503, { error: 'the webhook Secret is missing' });
    }
    const verdict = verifyDelivery(webhook, secret, req.headers, body, Date.now(), replays);
    if (!verdict.ok) {
      logger.warn({ namespace, flow: name, reason: verdict.rejection.reason }, 'webhook delivery refused');
      return reply(res, verdict.rejection.status, { error: verdict.rejection.reason });
    }
    const run = webhookRun(webhook, body);
    if ('status' in run) return reply(res, run.status, { error: run.reason });
    try {
      const { nameTaken, ...outcome } = await createOrJoin(kube, namespace, name, run);
      logger.info({ namespace, flow: name, mode: run.mode, ...outcome, ...(nameTaken ? { nameTaken } : {}) }, 'webhook delivery accepted');
      reply(res, 202, outcome);
    } catch (error) {
      if (verdict.replayKey) replays.forget(verdict.replayKey);
      throw error;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof TooLarge) return reply(res, 413, { error: `body over ${WEBHOOK_MAX_BODY_BYTES} bytes` });
      logger.error({ err: errorMessage(error) }, 'webhook delivery failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
