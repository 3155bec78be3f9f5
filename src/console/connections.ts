/**
 * Kept-alive connections to the API server, one pool per viewer's credentials. The Kubernetes client
 * makes a new connection pool (so a new TCP and TLS connection) for every API call, and its agent for
 * plain https requests (the data API) does not keep connections alive; the console makes several
 * requests per page for the same viewer, so it reuses that viewer's connections instead.
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type Cluster = { server: string; proxyUrl?: string } | null;
interface Closable {
  destroy(): unknown;
}
/** The client's factories: private in its types, stable in its code (config.js). */
interface ClientFactories {
  createAgent(cluster: Cluster, options: https.AgentOptions): unknown;
  createDispatcher(cluster: Cluster, options: https.AgentOptions): Closable | undefined;
}

const poolsOf = new WeakMap<KubeConfig, Map<string, Closable>>();

/** What makes two connections interchangeable: the server and the TLS identity on both ends. */
function poolKey(kind: string, server: string, options: https.AgentOptions): string {
  const hash = createHash('sha256').update(server);
  for (const part of [options.ca, options.cert, options.key, options.pfx, options.servername, options.rejectUnauthorized]) hash.update(`\u0000${part === undefined ? '' : String(part)}`);
  return `${kind}:${hash.digest('hex')}`;
}

/**
 * Makes `config` reuse kept-alive connections for its API calls and data API requests. Only direct
 * TLS connections are pooled; a cluster behind a proxy or without TLS keeps the client's own rules.
 * Watches keep a connection each, as before.
 */
export function withKeptAliveConnections(config: KubeConfig): KubeConfig {
  const client = config as unknown as ClientFactories;
  const pools = new Map<string, Closable>();
  poolsOf.set(config, pools);
  const pooled = <T extends Closable | undefined>(kind: string, make: (cluster: Cluster, options: https.AgentOptions) => T) => (cluster: Cluster, options: https.AgentOptions): T => {
    if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return make(cluster, options);
    const key = poolKey(kind, cluster.server, options);
    const existing = pools.get(key);
    if (existing) return existing as T;
    // Other credentials (a rotated client certificate) make a new pool: drop the old one of this kind.
    for (const [oldKey, old] of pools) {
      if (!oldKey.startsWith(`${kind}:`)) continue;
      void old.destroy();
      pools.delete(oldKey);
    }
    const made = make(cluster, options);
    if (made) pools.set(key, made);
    return made;
  };
  const makeDispatcher = client.createDispatcher.bind(config);
  client.createDispatcher = pooled('dispatcher', makeDispatcher);
  client.createAgent = pooled('agent', (_cluster, options) => new https.Agent({ ...options, keepAlive: true, maxFreeSockets: 8 }));
  return config;
}

/** Closes the pooled connections of a config made by withKeptAliveConnections. */
export function closeConnections(config: KubeConfig): void {
  for (const pool of poolsOf.get(config)?.values() ?? []) void pool.destroy();
  poolsOf.get(config)?.clear();
}
