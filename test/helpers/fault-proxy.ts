import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A FAULT INJECTOR for the tests: a small HTTP proxy in front of a real server (WordPress) that
 * forwards every request unchanged, except those a test has scripted a fault for. It counts what
 * reached the real server and how many requests were in flight at once.
 */

export type Fault =
  /** Answered by the proxy, never forwarded: e.g. 429 with Retry-After, or 503. */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Forwarded; the server's answer is held back `ms` before it is passed on (a slow server). */
  | { kind: 'slow'; ms: number }
  /** Forwarded and fully answered by the server, then the client's connection is cut: a lost response. */
  | { kind: 'cutAfterResponse' }
  /** Forwarded; the server's status and headers are passed on with a body that is not valid JSON. */
  | { kind: 'malformed'; body?: string };

export interface FaultMatch {
  method?: string;
  /** Tested against the path with its query string. */
  path?: RegExp;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** ms since the proxy started, when the request arrived. */
  at: number;
  /** Epoch ms when the request arrived. */
  time: number;
  fault?: Fault['kind'];
  forwarded: boolean;
  headers: http.IncomingHttpHeaders;
}

export interface FaultProxy {
  /** `http(s)://127.0.0.1:PORT`: use in place of the server's origin. */
  origin: string;
  /** The next `count` requests that match get `fault` (scripts queue in order). */
  inject(fault: Fault, options?: { match?: FaultMatch; count?: number }): void;
  /** Every request the proxy received, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Requests that reached the real server, by method. */
  reached(method?: string): number;
  /** Most requests in flight at once (received, not yet answered). */
  readonly maxInFlight: number;
  /** Forgets counters and scripts. */
  reset(): void;
  close(): Promise<void>;
}

interface Script {
  fault: Fault;
  match: FaultMatch;
  left: number;
}

export async function startFaultProxy(upstreamOrigin: string, options: { tls?: { key: string; cert: string } } = {}): Promise<FaultProxy> {
  const upstream = new URL(upstreamOrigin);
  const started = Date.now();
  let scripts: Script[] = [];
  const requests: ProxiedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let origin = '';
  const agent = new http.Agent({ keepAlive: true });

  function takeFault(method: string, path: string): Fault | undefined {
    const script = scripts.find((s) => s.left > 0 && (!s.match.method || s.match.method === method) && (!s.match.path || s.match.path.test(path)));
    if (!script) return undefined;
    script.left--;
    return script.fault;
  }

  // Links and ids in the server's answers name its own origin; clients talk to the proxy's.
  const rewrite = (text: string) =>
    text.split(upstream.origin).join(origin).split(upstream.origin.replace(/\//g, '\\/')).join(origin.replace(/\//g, '\\/'));

  function forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host };
      const out = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined || name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive' || name === 'content-length') continue;
            responseHeaders[name] = Array.isArray(value) ? value.map(rewrite) : rewrite(value);
          }
          resolve({ status: res.statusCode ?? 502, headers: responseHeaders, body: Buffer.from(rewrite(Buffer.concat(chunks).toString('utf8'))) });
        });
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, arrived: number): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const fault = takeFault(method, path);
    const record: ProxiedRequest = { method, path, at: arrived - started, time: arrived, fault: fault?.kind, forwarded: false, headers: req.headers };
    requests.push(record);
    if (fault?.kind === 'status') {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(fault.body ?? JSON.stringify({ code: 'fault_injected', message: `fault injector: ${fault.status}` }));
      return;
    }
    record.forwarded = true;
    const answer = await forward(req, Buffer.concat(chunks));
    if (fault?.kind === 'cutAfterResponse') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const body = fault?.kind === 'malformed' ? Buffer.from(fault.body ?? '{"id": 1, "title": ') : answer.body;
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) }).end(body);
  }

  const listener: http.RequestListener = (req, res) => {
    const arrived = Date.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      inFlight--;
    };
    res.on('finish', done);
    res.on('close', done);
    handle(req, res, arrived).catch((error: Error) => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault injector: upstream failed: ${error.message}`);
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    inject(fault, { match = {}, count = 1 } = {}) {
      scripts.push({ fault, match, left: count });
    },
    requests,
    reached: (method) => requests.filter((r) => r.forwarded && (!method || r.method === method)).length,
    get maxInFlight() {
      return maxInFlight;
    },
    reset() {
      scripts = [];
      requests.length = 0;
      maxInFlight = inFlight;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
