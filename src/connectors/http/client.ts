import type { Logger } from 'pino';
import { DEFAULTS as SPEC_DEFAULTS } from '../../api/defaults-values.js';
import { redactSecrets } from '../../util/redact.js';
import { apiErrorOf } from './api-error.js';
import { createAuthorizer } from './auth.js';
import { HttpError, type HttpErrorKind } from './errors.js';
import { Semaphore, StartGate } from './rate-limit.js';
import { fullJitterDelay, retryAfterMs, sleep } from './retry.js';
import { createTransport, TransportError, type RawResponse } from './transport.js';

export interface HttpRetryConfig {
  /** Attempts in all, the first included. Default 5. */
  attempts?: number;
  /** Ceiling of one backoff delay. Default 30 000 ms. */
  maxDelayMs?: number;
  /** First backoff ceiling, doubled per attempt. Default 250 ms. */
  baseDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails as rateLimited at once. Default 120 000 ms. */
  maxRetryAfterMs?: number;
}

export interface HttpClientConfig {
  baseUrl: string;
  /** Extra trusted roots, PEM. */
  caBundle?: string;
  insecureSkipVerify?: boolean;
  auth?: HttpAuth;
  headers?: Record<string, string>;
  /** Per attempt, from connect to the last byte of the response. Default 30 000 ms. */
  timeoutMs?: number;
  /** Per attempt, for a new connection to be up (TCP and TLS). Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Requests in flight at once. Default 4. */
  maxInFlight?: number;
  /** Requests started per second, retries included; unlimited when absent. */
  requestsPerSecond?: number;
  retry?: HttpRetryConfig;
}

export type HttpAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'apiKey'; in: 'header' | 'query'; name: string; value: string }
  | {
      kind: 'oauth2';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Space-separated scopes. */
      scope?: string;
      /** How the client authenticates at tokenUrl: HTTP Basic (RFC 6749's preference, the default) or form fields. */
      clientAuth?: 'basic' | 'body';
    };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Relative to baseUrl, or an absolute URL on the same origin (next links). */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
  /** The address answered, secrets masked. */
  url: string;
}

export interface HttpClientStats {
  /** Requests sent to the API, retries included (token requests not). */
  requests: number;
  retries: number;
  byMethod: Record<string, number>;
  /** OAuth2 token requests. */
  tokenRequests: number;
}

export interface HttpClient {
  /** Resolves for 2xx and 304; throws a classified HttpError otherwise (a redirect is 'rejected', not followed). */
  request(req: HttpRequest): Promise<HttpResponse>;
  stats(): HttpClientStats;
  /** Masks this client's secrets (credentials, tokens, query keys) in any text. */
  redact(text: string): string;
  close(): Promise<void>;
}

export { HttpError, isHttpError, type HttpErrorKind } from './errors.js';

// The timeouts are the CRD's documented defaults (timeouts.requestSeconds, connectSeconds).
const DEFAULTS = {
  timeoutMs: SPEC_DEFAULTS.httpRequestSeconds * 1000,
  connectTimeoutMs: SPEC_DEFAULTS.httpConnectSeconds * 1000,
  maxInFlight: 4,
  attempts: 5,
  maxDelayMs: 30_000,
  baseDelayMs: 250,
  maxRetryAfterMs: 120_000,
};
const MAX_MESSAGE = 500;

/** Statuses a request is retried on; a POST only where the server says it did not act (429, 503) or never got it (408). */
const RETRY_ANY = new Set([408, 429, 503]);
const isIdempotent = (method: string) => method !== 'POST';

function kindOfStatus(status: number): HttpErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'notFound';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rateLimited';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}

/** The failure of one attempt and whether another attempt may follow. */
interface Failure {
  error: HttpError;
  retry: boolean;
  /** The server asked for this wait (Retry-After). */
  waitMs?: number;
}

export function createHttpClient(config: HttpClientConfig, logger?: Logger): HttpClient {
  const base = new URL(config.baseUrl);
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxInFlight = Math.max(1, config.maxInFlight ?? DEFAULTS.maxInFlight);
  const attempts = Math.max(1, config.retry?.attempts ?? DEFAULTS.attempts);
  const maxDelayMs = config.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const baseDelayMs = config.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const maxRetryAfterMs = config.retry?.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;

  const transport = createTransport({
    caBundle: config.caBundle,
    insecureSkipVerify: config.insecureSkipVerify,
    maxSockets: maxInFlight,
    connectTimeoutMs: config.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
  });
  const slots = new Semaphore(maxInFlight);
  const gate = new StartGate(config.requestsPerSecond);
  const counters: HttpClientStats = { requests: 0, retries: 0, byMethod: {}, tokenRequests: 0 };
  const authorizer = createAuthorizer(
    config.auth,
    (url, headers, body) => transport.send(url, 'POST', headers, body, timeoutMs),
    () => counters.tokenRequests++,
  );

  function redact(textIn: string): string {
    let out = textIn;
    const name = authorizer.queryKeyName;
    if (name) {
      const escaped = encodeURIComponent(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      out = out.replace(new RegExp(`([?&]${escaped}=)[^&#\\s]*`, 'g'), '$1***');
    }
    for (const secret of authorizer.secrets()) if (secret.length >= 3) out = out.split(secret).join('***');
    return redactSecrets(out);
  }

  function urlOf(req: HttpRequest): URL {
    let url: URL;
    if (/^[a-z][\w+.-]*:/i.test(req.path)) {
      url = new URL(req.path);
      // Credentials go to the configured origin only, whatever a next link in a body says.
      if (url.origin !== base.origin) {
        throw new HttpError(`refusing to send credentials to ${redact(url.origin)}: not the origin of baseUrl ${base.origin}`, {
          kind: 'rejected',
          method: req.method,
          url: redact(url.toString()),
        });
      }
    } else {
      url = new URL(base.href.replace(/\/+$/, '') + (req.path.startsWith('/') ? req.path : `/${req.path}`));
    }
    for (const [name, value] of Object.entries(req.query ?? {})) url.searchParams.set(name, value);
    return url;
  }

  function parsedBody(raw: RawResponse): { body: unknown; text: string; malformed?: string } {
    const text = raw.body.toString('utf8');
    if (!text.trim()) return { body: undefined, text };
    const type = raw.headers['content-type'] ?? '';
    const looksJson = /[/+]json\b/i.test(type) || /^\s*[[{]/.test(text);
    if (!looksJson) return { body: undefined, text };
    try {
      return { body: JSON.parse(text) as unknown, text };
    } catch (error) {
      return { body: undefined, text, malformed: (error as Error).message };
    }
  }

  function statusFailure(req: HttpRequest, shownUrl: string, raw: RawResponse, attempt: number): Failure {
    const { body, text } = parsedBody(raw);
    const api = apiErrorOf(body, text);
    const kind = kindOfStatus(raw.status);
    const apiMessage = api.message ? redact(api.message).slice(0, MAX_MESSAGE) : undefined;
    const apiCode = api.code ? redact(api.code).slice(0, 100) : undefined;
    // Redirects are not followed: the credentials would travel to wherever the Location points.
    const redirect = raw.status >= 300 && raw.status < 400 ? `redirect to ${redact(raw.headers.location ?? '(no location)')}, not followed: point baseUrl at the final address` : undefined;
    const said = redirect ?? [apiCode, apiMessage].filter(Boolean).join(': ');
    const transientStatus = raw.status >= 500 || RETRY_ANY.has(raw.status);
    const retry = transientStatus && (isIdempotent(req.method) || RETRY_ANY.has(raw.status));
    // A POST answered 500/502/504 may have been carried out before the failure.
    const mayHaveApplied = transientStatus && !isIdempotent(req.method) && !RETRY_ANY.has(raw.status);
    let waitMs: number | undefined;
    if (raw.status === 429 || raw.status === 503) waitMs = retryAfterMs(raw.headers['retry-after']);
    const error = new HttpError(`${req.method} ${shownUrl} answered ${raw.status}${said ? ` ${said}` : ''}${api.field ? ` [field ${api.field}]` : ''}`, {
      kind,
      method: req.method,
      url: shownUrl,
      status: raw.status,
      apiMessage,
      apiCode,
      field: api.field,
      mayHaveApplied,
      attempts: attempt,
    });
    return { error, retry, waitMs };
  }

  function transportFailure(req: HttpRequest, shownUrl: string, failure: TransportError, attempt: number): Failure {
    const kind: HttpErrorKind = failure.timedOut ? 'timeout' : 'network';
    const mayHaveApplied = failure.sent && !isIdempotent(req.method);
    const detail = failure.untrusted ? `TLS: ${failure.message} (${failure.code}); the server's certificate is not trusted` : `${failure.message} (${failure.code})`;
    const error = new HttpError(`${req.method} ${shownUrl} failed: ${redact(detail)}${mayHaveApplied ? '; the server may have carried it out' : ''}`, {
      kind,
      method: req.method,
      url: shownUrl,
      mayHaveApplied,
      attempts: attempt,
    });
    return { error, retry: !failure.untrusted && !mayHaveApplied };
  }

  async function attemptOnce(req: HttpRequest, url: URL, shownUrl: string, body: Buffer | undefined, attempt: number, renewed: boolean): Promise<HttpResponse | Failure | 'renew'> {
    const release = await slots.acquire();
    try {
      await gate.take();
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'ferry', ...lowerCased(config.headers), ...lowerCased(req.headers) };
      if (body) headers['content-type'] ??= 'application/json';
      const wireUrl = new URL(url);
      let usedToken: string | undefined;
      try {
        usedToken = await authorizer.apply(wireUrl, headers);
      } catch (error) {
        if (error instanceof HttpError) return { error, retry: error.transient };
        throw error;
      }
      counters.requests++;
      counters.byMethod[req.method] = (counters.byMethod[req.method] ?? 0) + 1;
      const started = Date.now();
      let raw: RawResponse;
      try {
        raw = await transport.send(wireUrl, req.method, headers, body, timeoutMs);
      } catch (error) {
        if (error instanceof TransportError) return transportFailure(req, shownUrl, error, attempt);
        throw error;
      }
      logger?.debug({ method: req.method, target: shownUrl, status: raw.status, ms: Date.now() - started }, 'http request');
      if (raw.status === 401 && !renewed && authorizer.renewAfterUnauthorized(usedToken)) return 'renew';
      if (raw.status >= 400 || raw.status < 200 || (raw.status >= 300 && raw.status !== 304)) return statusFailure(req, shownUrl, raw, attempt);
      const parsed = parsedBody(raw);
      if (parsed.malformed !== undefined) {
        const error = new HttpError(`${req.method} ${shownUrl} answered ${raw.status} with a body that is not valid JSON: ${parsed.malformed}; it starts with: ${redact(parsed.text.slice(0, 80)).replace(/\s+/g, ' ')}`, {
          kind: 'malformed',
          method: req.method,
          url: shownUrl,
          status: raw.status,
          attempts: attempt,
        });
        return { error, retry: false };
      }
      return { status: raw.status, headers: raw.headers, body: parsed.body, url: shownUrl };
    } finally {
      release();
    }
  }

  async function request(req: HttpRequest): Promise<HttpResponse> {
    const url = urlOf(req);
    const shownUrl = redact(url.toString());
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptOnce(req, url, shownUrl, body, attempt, renewed);
      if (outcome === 'renew') {
        renewed = true;
        attempt--; // a token renewal is not a retry of a failure
        continue;
      }
      if (!('error' in outcome)) return outcome;
      const { error, retry, waitMs } = outcome;
      if (!retry) throw error;
      if (waitMs !== undefined && waitMs > maxRetryAfterMs) {
        throw withMessage(error, `${error.message}; the server asks to wait ${Math.round(waitMs / 1000)} s, more than the ${Math.round(maxRetryAfterMs / 1000)} s Ferry waits`);
      }
      if (attempt >= attempts) throw withMessage(error, `${error.message}; gave up after ${attempt} attempts`);
      const delay = waitMs ?? fullJitterDelay(attempt, baseDelayMs, maxDelayMs);
      // Retry-After speaks for the whole client, not just this request.
      if (waitMs !== undefined) gate.pauseUntil(Date.now() + waitMs);
      counters.retries++;
      logger?.warn({ method: req.method, target: shownUrl, status: error.status, reason: error.kind, attempt, delayMs: delay }, `http ${error.kind}, retrying`);
      await sleep(delay);
    }
  }

  return {
    request,
    stats: () => ({ ...counters, byMethod: { ...counters.byMethod } }),
    redact,
    async close() {
      transport.close();
    },
  };
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function withMessage(error: HttpError, message: string): HttpError {
  return new HttpError(message, {
    kind: error.kind,
    method: error.method,
    url: error.url,
    status: error.status,
    apiMessage: error.apiMessage,
    apiCode: error.apiCode,
    field: error.field,
    mayHaveApplied: error.mayHaveApplied,
    attempts: error.attempts,
  });
}
