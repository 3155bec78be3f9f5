import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpEndpoint } from '../../../src/api/http.js';
import { createHttpClient } from '../../../src/connectors/http/client.js';
import { clientConfig } from '../../../src/connectors/http/client-config.js';
import { isHttpError, type HttpError } from '../../../src/connectors/http/errors.js';

/**
 * `timeouts.connectSeconds` reaches the client: a real listening socket that never accepts (PHP,
 * backlog 0, its one queue slot taken) leaves a new connection hanging in the kernel, so only the connect
 * timeout can end the attempt, long before the request timeout.
 */
let listener: ChildProcess;
let port: number;
const held: net.Socket[] = [];

beforeAll(async () => {
  // php-cli is there for the WordPress tests (.ci/run).
  const script = `$s = stream_socket_server('tcp://127.0.0.1:0', $n, $m, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, stream_context_create(['socket' => ['backlog' => 0]]));
echo explode(':', stream_socket_get_name($s, false))[1], "\\n"; sleep(300);`;
  listener = spawn('php', ['-r', script]);
  port = await new Promise<number>((resolve) => listener.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  // Fill the accept queue: from here on the kernel leaves new SYNs unanswered.
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve());
    socket.on('error', reject);
    held.push(socket);
  });
});

afterAll(() => {
  held.forEach((s) => s.destroy());
  listener?.kill();
});

const endpoint = (connectSeconds?: number): HttpEndpoint =>
  ({ baseUrl: `http://127.0.0.1:${port}/api`, timeouts: { requestSeconds: 30, ...(connectSeconds ? { connectSeconds } : {}) }, limits: { retries: 1 } }) as HttpEndpoint;

describe('connect timeout', () => {
  it('connectSeconds ends an attempt that cannot connect, and the POST is retried (nothing was sent)', { timeout: 20_000 }, async () => {
    const client = createHttpClient({ ...clientConfig(endpoint(1), {}, 'spec.target.http'), retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    const started = Date.now();
    const error = await client.request({ method: 'POST', path: '/things', body: { a: 1 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(isHttpError(error), String(error)).toBe(true);
    const failure = error as HttpError;
    expect(failure.kind).toBe('timeout');
    expect(failure.message).toContain('no connection within 1000 ms');
    expect(failure.mayHaveApplied).toBe(false);
    expect(failure.attempts).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(15_000);
    client.close?.();
  });

  it('clientConfig passes connectSeconds on; without it the client default (10 s) applies', () => {
    expect(clientConfig(endpoint(), {}, 'spec.target.http').connectTimeoutMs).toBeUndefined();
    expect(clientConfig(endpoint(3), {}, 'spec.target.http').connectTimeoutMs).toBe(3_000);
  });
});
