import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** Liveness: the event loop answers and the informers are not wedged. */
  healthy: () => boolean;
  /** Readiness: caches synced (a passive replica is ready too: it is waiting for the lease). */
  ready: () => boolean;
}

/** /healthz, /readyz and /metrics on one port. */
export async function startHealthServer(port: number, host: string, checks: HealthChecks, registry: Registry): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? checks.healthy() : checks.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    if (path === '/metrics') {
      registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body))
        .catch((error) => res.writeHead(500).end(String(error)));
      return;
    }
    res.writeHead(404).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return { server, port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
