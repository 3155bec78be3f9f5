import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

/** One HTTP exchange on node:http(s), with no retry and no interpretation of the status. */

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** Connection errors that are about trust, not about the network: retrying does not help. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;

/**
 * A failure below HTTP. `sent` says whether the whole request had been handed to the connection:
 * before that, the server cannot have acted on it.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly sent: boolean,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }

  get untrusted(): boolean {
    return TLS_CODES.test(this.code);
  }
}

export interface TransportOptions {
  caBundle?: string;
  insecureSkipVerify?: boolean;
  maxSockets: number;
  /** A new connection must be up (TCP, and TLS on https) within this; the request timeout still covers the whole exchange. */
  connectTimeoutMs?: number;
}

export interface Transport {
  send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<RawResponse>;
  close(): void;
}

export function createTransport(options: TransportOptions): Transport {
  const tls = {
    // `ca` replaces Node's roots: keep them and add the bundle.
    ca: options.caBundle ? [...rootCertificates, options.caBundle] : undefined,
    rejectUnauthorized: !options.insecureSkipVerify,
  };
  const common = { maxSockets: options.maxSockets };
  // Kept-alive connections for idempotent requests. A POST gets a fresh connection: a pooled one
  // the server has just closed fails the same way as a lost response, and would make every such
  // POST look as if it may have applied.
  const agents = {
    reuse: { http: new http.Agent({ ...common, keepAlive: true }), https: new https.Agent({ ...common, ...tls, keepAlive: true }) },
    fresh: { http: new http.Agent({ ...common, keepAlive: false }), https: new https.Agent({ ...common, ...tls, keepAlive: false }) },
  };

  function send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<RawResponse> {
    const secure = url.protocol === 'https:';
    const pool = method === 'POST' ? agents.fresh : agents.reuse;
    const agent = secure ? pool.https : pool.http;
    const request = secure ? https.request : http.request;
    return new Promise<RawResponse>((resolve, reject) => {
      let sent = false;
      let timedOut = false;
      let settled = false;
      const req = request(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
        fail(`no complete answer within ${timeoutMs} ms`, 'ETIMEDOUT');
      }, timeoutMs);
      function fail(message: string, code: string): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new TransportError(message, code, sent, timedOut));
      }
      req.on('socket', (socket) => {
        if (!options.connectTimeoutMs || !socket.connecting) return;
        const connectTimer = setTimeout(() => {
          timedOut = true;
          req.destroy();
          fail(`no connection within ${options.connectTimeoutMs} ms`, 'ECONNTIMEOUT');
        }, options.connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      req.on('finish', () => (sent = true));
      req.on('error', (error: NodeJS.ErrnoException) => fail(error.message, error.code ?? 'EUNKNOWN'));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => fail(error.message, error.code ?? 'ECONNRESET'));
        res.on('close', () => {
          if (!res.complete) fail('connection closed in the middle of the answer', 'ECONNRESET');
        });
        res.on('end', () => {
          if (settled || !res.complete) return;
          settled = true;
          clearTimeout(timer);
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.end(body);
    });
  }

  return {
    send,
    close() {
      for (const pool of Object.values(agents)) {
        pool.http.destroy();
        pool.https.destroy();
      }
    },
  };
}
