import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, HttpError, type HttpClient, type HttpClientConfig } from '../../../src/connectors/http/client.js';
import { freePort } from '../../../src/util/embedded-postgres.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../helpers/wordpress-server.js';

/**
 * The HTTP client against a real WordPress (Debian's package on php -S), directly and through the
 * tests' fault injector (test/helpers/fault-proxy.ts), which scripts 429/503/slow/cut/malformed answers.
 */

const run = promisify(execFile);
const EVENTS = `/wp/v2/${EVENT_POST_TYPE}`;

let wp: RunningWordPress;
let proxy: FaultProxy;
const clients: HttpClient[] = [];
/** Every error message and log line of this file, checked for secrets at the end. */
const seen: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      seen.push(chunk.toString('utf8'));
      done();
    },
  }),
);

beforeAll(async () => {
  wp = await startWordPress();
  proxy = await startFaultProxy(wp.siteUrl);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await wp?.close();
});

afterEach(() => proxy.reset());

function client(overrides: Partial<HttpClientConfig> = {}, through: 'proxy' | 'direct' = 'proxy'): HttpClient {
  const origin = through === 'proxy' ? proxy.origin : wp.siteUrl;
  const made = createHttpClient(
    {
      baseUrl: `${origin}/wp-json`,
      auth: { kind: 'basic', username: wp.username, password: wp.applicationPassword },
      retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 400 },
      ...overrides,
    },
    logger,
  );
  clients.push(made);
  return made;
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    seen.push((error as HttpError).message);
    return error as HttpError;
  }
  throw new Error('expected the request to fail');
}

/** Posts of the event type whose title is exactly `title`, straight from WordPress (not through the fault injector). */
async function eventsTitled(title: string): Promise<unknown[]> {
  const direct = client({}, 'direct');
  const found = await direct.request({ method: 'GET', path: EVENTS, query: { search: title, status: 'any', context: 'edit', per_page: '100' } });
  return (found.body as { title: { raw: string } }[]).filter((post) => post.title.raw === title);
}

describe('authentication', () => {
  it('lists with a good Application Password and classifies a wrong one as auth, without echoing it', async () => {
    const listed = await client({}, 'direct').request({ method: 'GET', path: EVENTS });
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.headers['x-wp-total']).toBeDefined();

    const wrong = 'abcd EFGH ijkl MNOP qrst UVWX';
    const error = await failure(client({ auth: { kind: 'basic', username: wp.username, password: wrong } }, 'direct').request({ method: 'GET', path: EVENTS, query: { context: 'edit' } }));
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(401);
    expect(error.attempts).toBe(1);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(Buffer.from(`${wp.username}:${wrong}`).toString('base64'));
  });
});

describe('rate limits and unavailability (fault injector)', () => {
  it('waits as long as Retry-After says (seconds), then succeeds', async () => {
    proxy.inject({ kind: 'status', status: 429, retryAfter: '2' }, { match: { method: 'GET' } });
    const http = client();
    const started = Date.now();
    const response = await http.request({ method: 'GET', path: EVENTS });
    const waited = Date.now() - started;
    expect(response.status).toBe(200);
    expect(waited).toBeGreaterThanOrEqual(1_995); // timers may fire a millisecond early by the wall clock
    expect(proxy.requests).toHaveLength(2);
    expect(proxy.requests[1].at - proxy.requests[0].at).toBeGreaterThanOrEqual(1_990);
    expect(proxy.reached('GET')).toBe(1);
    expect(http.stats().retries).toBe(1);
  });

  it('honours Retry-After as an HTTP date, for a POST too, and creates the record once', async () => {
    const until = new Date(Date.now() + 2_000);
    proxy.inject({ kind: 'status', status: 429, retryAfter: until.toUTCString() }, { match: { method: 'POST' } });
    const title = `retry-after-date ${Date.now()}`;
    const response = await client().request({ method: 'POST', path: EVENTS, body: { title, status: 'publish' } });
    expect(response.status).toBe(201);
    // The date has whole seconds: the retry must not come before the second it names.
    expect(proxy.requests[1].time).toBeGreaterThanOrEqual(Math.floor(until.getTime() / 1000) * 1000);
    expect(proxy.reached('POST')).toBe(1);
    expect(await eventsTitled(title)).toHaveLength(1);
  });

  it('backs off on 503 and succeeds', async () => {
    proxy.inject({ kind: 'status', status: 503 }, { match: { method: 'GET' }, count: 2 });
    const http = client();
    const response = await http.request({ method: 'GET', path: EVENTS });
    expect(response.status).toBe(200);
    expect(proxy.requests.map((r) => r.fault ?? 'forwarded')).toEqual(['status', 'status', 'forwarded']);
    expect(http.stats()).toMatchObject({ requests: 3, retries: 2, byMethod: { GET: 3 } });
  });

  it('gives up after the retry budget with the classified reason', async () => {
    proxy.inject({ kind: 'status', status: 503 }, { count: 10 });
    const error = await failure(client({ retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 } }).request({ method: 'GET', path: EVENTS }));
    expect(error.kind).toBe('unavailable');
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.message).toContain('gave up after 3 attempts');
    expect(proxy.requests).toHaveLength(3);

    proxy.reset();
    proxy.inject({ kind: 'status', status: 429, retryAfter: '0' }, { count: 10 });
    const limited = await failure(client({ retry: { attempts: 2 } }).request({ method: 'GET', path: EVENTS }));
    expect(limited.kind).toBe('rateLimited');
    expect(proxy.requests).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond its ceiling', async () => {
    proxy.inject({ kind: 'status', status: 429, retryAfter: '3600' });
    const started = Date.now();
    const error = await failure(client({ retry: { attempts: 5, maxRetryAfterMs: 10_000 } }).request({ method: 'GET', path: EVENTS }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.kind).toBe('rateLimited');
    expect(error.message).toContain('3600 s');
  });

  it('retries a slow GET after its timeout and classifies the budget spent as timeout', async () => {
    proxy.inject({ kind: 'slow', ms: 3_000 }, { match: { method: 'GET' }, count: 2 });
    const error = await failure(client({ timeoutMs: 800, retry: { attempts: 2, baseDelayMs: 10 } }).request({ method: 'GET', path: EVENTS }));
    expect(error.kind).toBe('timeout');
    expect(error.attempts).toBe(2);
    expect(proxy.requests).toHaveLength(2);
  });
});

describe('limits', () => {
  it('keeps at most maxInFlight requests in flight', async () => {
    const http = client({ maxInFlight: 2 });
    await Promise.all(Array.from({ length: 8 }, () => http.request({ method: 'GET', path: EVENTS })));
    expect(proxy.requests).toHaveLength(8);
    expect(proxy.maxInFlight).toBe(2);
  });

  it('starts no more requests per second than configured', async () => {
    const perSecond = 5;
    const http = client({ maxInFlight: 4, requestsPerSecond: perSecond });
    await Promise.all(Array.from({ length: 11 }, () => http.request({ method: 'GET', path: EVENTS })));
    const at = proxy.requests.map((r) => r.at).sort((a, b) => a - b);
    // 11 starts at 5 per second take at least 2 s; no one-second window holds more than 5 (+1 for timer jitter at its edge).
    expect(at[at.length - 1] - at[0]).toBeGreaterThanOrEqual(1_900);
    const busiest = Math.max(...at.map((start) => at.filter((t) => t >= start && t < start + 1_000).length));
    expect(busiest).toBeLessThanOrEqual(perSecond + 1);
  });
});

describe('writes that may have reached the server (fault injector)', () => {
  it('a POST whose response is lost is not retried: mayHaveApplied, and exactly one post exists', async () => {
    proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'POST' } });
    const title = `lost-response ${Date.now()}`;
    const http = client();
    const error = await failure(http.request({ method: 'POST', path: EVENTS, body: { title, status: 'publish', meta: { capacity: 12 } } }));
    expect(error.kind).toBe('network');
    expect(error.mayHaveApplied).toBe(true);
    expect(error.message).toContain('may have carried it out');
    expect(proxy.reached('POST')).toBe(1);
    expect(http.stats().retries).toBe(0);
    expect(await eventsTitled(title)).toHaveLength(1);
  });

  it('a POST that times out after it was sent is not retried either', async () => {
    proxy.inject({ kind: 'slow', ms: 2_500 }, { match: { method: 'POST' } });
    const title = `post-timeout ${Date.now()}`;
    const error = await failure(client({ timeoutMs: 1_000 }).request({ method: 'POST', path: EVENTS, body: { title, status: 'draft' } }));
    expect(error.kind).toBe('timeout');
    expect(error.mayHaveApplied).toBe(true);
    expect(proxy.reached('POST')).toBe(1);
    expect(await eventsTitled(title)).toHaveLength(1);
  });

  it('a POST answered 500 is not retried: WordPress creates the post before its meta fails (null for an unset integer meta)', async () => {
    const title = `post-500 ${Date.now()}`;
    const error = await failure(client().request({ method: 'POST', path: EVENTS, body: { title, status: 'publish', meta: { capacity: null } } }));
    expect(error.status).toBe(500);
    expect(error.kind).toBe('unavailable');
    expect(error.apiCode).toBe('rest_invalid_stored_value');
    expect(error.mayHaveApplied).toBe(true);
    expect(proxy.reached('POST')).toBe(1);
    expect(await eventsTitled(title)).toHaveLength(1);
  });

  it('a POST answered 503 is retried (the server did not act) and creates one post', async () => {
    proxy.inject({ kind: 'status', status: 503 }, { match: { method: 'POST' } });
    const title = `post-503 ${Date.now()}`;
    const created = await client().request({ method: 'POST', path: EVENTS, body: { title, status: 'publish' } });
    expect(created.status).toBe(201);
    expect(proxy.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(proxy.reached('POST')).toBe(1);
    expect(await eventsTitled(title)).toHaveLength(1);
  });

  it('a POST refused before it was sent (nothing listening) is retried and fails as network without mayHaveApplied', async () => {
    const port = await freePort();
    const error = await failure(client({ baseUrl: `http://127.0.0.1:${port}/wp-json`, retry: { attempts: 2, baseDelayMs: 10 } }).request({ method: 'POST', path: EVENTS, body: { title: 'x' } }));
    expect(error.kind).toBe('network');
    expect(error.mayHaveApplied).toBe(false);
    expect(error.attempts).toBe(2);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a PUT whose response is lost is retried (idempotent) and applied once', async () => {
    const http = client();
    const created = await http.request({ method: 'POST', path: EVENTS, body: { title: `put-lost ${Date.now()}`, status: 'draft', meta: { capacity: 1 } } });
    const id = (created.body as { id: number }).id;
    proxy.reset();
    proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'PUT' } });
    const updated = await http.request({ method: 'PUT', path: `${EVENTS}/${id}`, body: { meta: { capacity: 40 } } });
    expect((updated.body as { meta: { capacity: number } }).meta.capacity).toBe(40);
    expect(proxy.reached('PUT')).toBe(2);
  });
});

describe('refusals and malformed answers', () => {
  it('a 400 from WordPress is rejected at once with its message and the field', async () => {
    const error = await failure(client().request({ method: 'POST', path: EVENTS, body: { title: 'bad status', status: 'no-such-status' } }));
    expect(error.kind).toBe('rejected');
    expect(error.status).toBe(400);
    expect(error.apiCode).toBe('rest_invalid_param');
    expect(error.field).toBe('status');
    expect(error.apiMessage).toMatch(/status is not one of/);
    expect(error.message).toContain('[field status]');
    expect(error.mayHaveApplied).toBe(false);
    expect(proxy.requests).toHaveLength(1);
  });

  it('a 404 is notFound', async () => {
    const error = await failure(client().request({ method: 'GET', path: `${EVENTS}/99999999` }));
    expect(error.kind).toBe('notFound');
    expect(error.apiCode).toBe('rest_post_invalid_id');
  });

  it('a body that is not JSON is malformed, with a clear message, and not retried', async () => {
    proxy.inject({ kind: 'malformed' }, { match: { method: 'GET' } });
    const error = await failure(client().request({ method: 'GET', path: EVENTS }));
    expect(error.kind).toBe('malformed');
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).toContain('{"id": 1, "title": ');
    expect(proxy.requests).toHaveLength(1);
  });

  it('refuses to send credentials to another origin named by a next link', async () => {
    const error = await failure(client().request({ method: 'GET', path: 'http://192.0.2.1/wp-json/wp/v2/posts?page=2' }));
    expect(error.kind).toBe('rejected');
    expect(proxy.requests).toHaveLength(0);
  });

  it('does not follow a redirect (the credentials would go along): rejected, naming the new address', async () => {
    // WordPress redirects ?p=1 (its first post) to the post's permalink.
    const error = await failure(client().request({ method: 'GET', path: `${proxy.origin}/?p=1` }));
    expect(error.kind).toBe('rejected');
    expect(error.status).toBe(301);
    expect(error.message).toMatch(/redirect to .*hello-world.*not followed/);
  });

  it('follows an absolute next link on its own origin', async () => {
    const response = await client().request({ method: 'GET', path: `${proxy.origin}/wp-json${EVENTS}?per_page=1&page=1` });
    expect(response.status).toBe(200);
  });
});

describe('OAuth2 client credentials (token endpoint: a test double inside the real WordPress)', () => {
  async function sql<T>(statement: string, values: unknown[] = []): Promise<T> {
    const connection = await mysql.createConnection({ uri: wp.mysql.url });
    try {
      const [rows] = await connection.query(statement, values);
      return rows as T;
    } finally {
      await connection.end();
    }
  }
  const option = (name: string, value: string) =>
    sql(`INSERT INTO ${wp.mysql.tablePrefix}options (option_name, option_value, autoload) VALUES (?, ?, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)`, [name, value]);
  const issued = async () =>
    Number((await sql<{ v: string }[]>(`SELECT option_value AS v FROM ${wp.mysql.tablePrefix}options WHERE option_name = 'ferry_test_tokens_issued'`))[0]?.v ?? 0);
  const oauthClient = (overrides: Partial<Extract<HttpClientConfig['auth'], { kind: 'oauth2' }>> = {}) =>
    client({ auth: { kind: 'oauth2', ...wp.oauth2, ...overrides } }, 'direct');
  // context=edit needs a logged-in user: without a valid token WordPress answers 401.
  const edit = { method: 'GET' as const, path: EVENTS, query: { context: 'edit' } };

  it('fetches one token and reuses it until it nears expiry', async () => {
    await option('ferry_test_token_seconds', '3600');
    const before = await issued();
    const http = oauthClient();
    for (let i = 0; i < 4; i++) expect((await http.request(edit)).status).toBe(200);
    expect(await issued()).toBe(before + 1);
    expect(http.stats().tokenRequests).toBe(1);

    await option('ferry_test_token_seconds', '2');
    const short = oauthClient({ clientAuth: 'body' });
    await short.request(edit);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await short.request(edit);
    expect(short.stats().tokenRequests).toBe(2);
    expect(await issued()).toBe(before + 3);
  });

  it('renews a token the server no longer accepts (401) once, then succeeds', async () => {
    await option('ferry_test_token_seconds', '3600');
    const http = oauthClient();
    await http.request(edit);
    const before = await issued();
    await sql(`DELETE FROM ${wp.mysql.tablePrefix}options WHERE option_name LIKE '%transient%ferry\\_tok\\_%'`);
    expect((await http.request(edit)).status).toBe(200);
    expect(await issued()).toBe(before + 1);
    expect(http.stats()).toMatchObject({ tokenRequests: 2, retries: 0 });
  });

  it('classifies a refused client as auth, without the client secret in the message', async () => {
    const wrong = 'Wrong-Client-Secret-77af';
    const error = await failure(oauthClient({ clientSecret: wrong }).request(edit));
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('invalid_client');
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(wp.oauth2.clientSecret);
  });
});

describe('TLS', () => {
  let dir: string;
  let tlsProxy: FaultProxy;
  let ca: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-tls-'));
    const file = (name: string) => join(dir, name);
    // A throwaway CA and a server certificate for 127.0.0.1 signed by it.
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Ferry test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr')]);
    writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('server.pem')]);
    ca = readFileSync(file('ca.pem'), 'utf8');
    tlsProxy = await startFaultProxy(wp.siteUrl, { tls: { key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') } });
  }, 60_000);

  afterAll(async () => {
    await tlsProxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tlsClient = (overrides: Partial<HttpClientConfig>) => client({ baseUrl: `${tlsProxy.origin}/wp-json`, ...overrides });

  it('trusts a server signed by the configured CA bundle', async () => {
    const response = await tlsClient({ caBundle: ca }).request({ method: 'GET', path: EVENTS });
    expect(response.status).toBe(200);
    expect(tlsProxy.reached('GET')).toBe(1);
  });

  it('refuses a server whose CA it does not know, without retrying', async () => {
    const before = tlsProxy.requests.length;
    const error = await failure(tlsClient({}).request({ method: 'GET', path: EVENTS }));
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/not trusted/);
    expect(error.attempts).toBe(1);
    expect(tlsProxy.requests.length).toBe(before);
  });

  it('skips verification only when told to', async () => {
    const response = await tlsClient({ insecureSkipVerify: true }).request({ method: 'GET', path: EVENTS });
    expect(response.status).toBe(200);
  });
});

describe('secrets', () => {
  it('masks an API key in a query parameter in errors and log lines', async () => {
    const key = 'QueryKey-Secret-8d1f2a';
    const http = client({ auth: { kind: 'apiKey', in: 'query', name: 'wpkey', value: key } });
    await http.request({ method: 'GET', path: EVENTS });
    expect(proxy.requests[0].path).toContain(`wpkey=${key}`);
    const error = await failure(http.request({ method: 'GET', path: `${EVENTS}/99999999` }));
    expect(error.kind).toBe('notFound');
    expect(error.message).not.toContain(key);
    // A next link that echoes the key back is masked too.
    const echoed = await failure(http.request({ method: 'GET', path: `${proxy.origin}/wp-json${EVENTS}/99999999?wpkey=${key}` }));
    expect(echoed.url).toContain('wpkey=***');
    expect(echoed.message).not.toContain(key);
    expect(http.redact(`see ${proxy.origin}/x?wpkey=${key}&a=1`)).toBe(`see ${proxy.origin}/x?wpkey=***&a=1`);
    seen.push(`api-key:${key}`); // the key itself, checked for below
  });

  it('puts no credential in any error message or log line of this file', async () => {
    const logged = seen.join('\n');
    expect(logged).toContain('http request'); // the logger did capture lines
    const secrets = [wp.applicationPassword, Buffer.from(`${wp.username}:${wp.applicationPassword}`).toString('base64'), wp.oauth2.clientSecret];
    for (const secret of secrets) expect(logged).not.toContain(secret);
    const keyLines = seen.filter((line) => line.includes('QueryKey-Secret-8d1f2a'));
    expect(keyLines).toEqual(['api-key:QueryKey-Secret-8d1f2a']);
  });
});
