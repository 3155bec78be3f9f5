import { connect, createServer, type Socket } from 'node:net';

/**
 * A FAULT INJECTOR for the e2e tests: a TCP proxy in front of the real kube-apiserver (TLS passes
 * through untouched). `blackhole()` makes the connections open at that moment stop passing bytes
 * in both directions without closing them, as a dead NAT entry or a partitioned peer does; with
 * `newConnections` the ones opened later too, until `heal()`.
 */
export interface BlackholeProxy {
  /** `https://127.0.0.1:PORT`, in place of the API server's URL. */
  url: string;
  /** Silences every open connection for good (and later ones until heal() when asked); returns how many were open. */
  blackhole(options?: { newConnections?: boolean }): number;
  /** Connections opened from now on pass again. */
  heal(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(upstreamUrl: string): Promise<BlackholeProxy> {
  const upstream = new URL(upstreamUrl);
  const open = new Set<{ client: Socket; server: Socket; silenced: boolean }>();
  let silenceNew = false;
  const proxy = createServer((client) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    const pair = { client, server, silenced: silenceNew };
    open.add(pair);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!pair.silenced) to.write(chunk);
      });
    pipe(client, server);
    pipe(server, client);
    const end = () => {
      open.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    blackhole({ newConnections = false } = {}) {
      for (const pair of open) pair.silenced = true;
      silenceNew = newConnections;
      return open.size;
    },
    heal() {
      silenceNew = false;
    },
    async close() {
      for (const { client, server } of open) {
        client.destroy();
        server.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
