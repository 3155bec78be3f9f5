import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN for a REST API that honours idempotency keys (as payment and CRM APIs do with an
 * `Idempotency-Key` header): no such real API runs on these machines, and WordPress ignores the
 * header. It keeps records in memory under /records (JSON, page-numbered lists, ids it hands out,
 * `modified` the time of the last change) and answers a POST whose key it has seen with the record
 * that key created, marked `Idempotent-Replayed: true`, instead of creating another.
 */
export interface ApiRecord {
  id: number;
  [field: string]: unknown;
}

export interface IdempotentApiServer {
  origin: string;
  /** The records as stored, in creation order. */
  records(): ApiRecord[];
  /** POSTs handled: how many created a record and how many were answered from a known key. */
  readonly posts: { created: number; replayed: number };
  close(): Promise<void>;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export async function startIdempotentApiServer(): Promise<IdempotentApiServer> {
  const records = new Map<number, ApiRecord>();
  const byKey = new Map<string, number>();
  const posts = { created: 0, replayed: 0 };
  let nextId = 1;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const one = /^\/records\/(\d+)$/.exec(url.pathname);
    const record = one ? records.get(Number(one[1])) : undefined;
    if (url.pathname === '/records' && req.method === 'GET') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const size = Number(url.searchParams.get('per_page') ?? '100');
      return send(res, 200, [...records.values()].slice((page - 1) * size, page * size));
    }
    if (url.pathname === '/records' && req.method === 'POST') {
      const key = req.headers[IDEMPOTENCY_HEADER.toLowerCase()];
      const known = typeof key === 'string' ? byKey.get(key) : undefined;
      if (known !== undefined) {
        posts.replayed++;
        return send(res, 201, records.get(known), { 'idempotent-replayed': 'true' });
      }
      const created: ApiRecord = { ...body, id: nextId++, modified: new Date().toISOString() };
      records.set(created.id, created);
      if (typeof key === 'string') byKey.set(key, created.id);
      posts.created++;
      return send(res, 201, created);
    }
    if (one && !record) return send(res, 404, { code: 'not_found', message: 'no such record' });
    if (one && req.method === 'GET') return send(res, 200, record);
    if (one && (req.method === 'PUT' || req.method === 'PATCH')) {
      const updated = { ...record, ...body, id: record!.id, modified: new Date().toISOString() };
      records.set(updated.id, updated);
      return send(res, 200, updated);
    }
    if (one && req.method === 'DELETE') {
      records.delete(record!.id);
      return send(res, 200, { deleted: true, previous: record });
    }
    return send(res, 404, { code: 'no_route', message: `${req.method} ${url.pathname}` });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 400, { code: 'bad_request', message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records: () => [...records.values()],
    posts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
