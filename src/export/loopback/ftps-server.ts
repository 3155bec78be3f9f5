import { createRequire } from 'node:module';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { resolve } from 'node:path';

/**
 * An FTPS server on loopback (ftp-srv, a dev dependency, loaded on demand) for the demo, tests and
 * benchmark: explicit TLS (AUTH TLS on a plain port) or implicit TLS.
 */
export interface LoopbackFtpsOptions {
  root: string;
  username: string;
  password: string;
  /** Without it the server speaks plain FTP (for the insecure-mode tests). */
  tls?: { key: string; cert: string };
  implicit?: boolean;
}

export interface LoopbackFtpsServer {
  port: number;
  close(): Promise<void>;
}

// ftp-srv expects a bunyan-style logger; the loopback server stays quiet.
const silentLog = {
  child: () => silentLog,
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  fatal: () => {},
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

interface AuthCommand {
  handler(this: { commandSocket: Socket; secure: boolean; server: { options: { tls?: unknown } } }, request: { command: { arg: string } }): unknown;
}

/**
 * ftp-srv 4.6.3 answers AUTH TLS with 234 and wraps the command socket in TLS a few event-loop turns
 * later. A client's ClientHello that lands in between is parsed as an FTP command and answered in
 * plain text, which the client reports as a TLS "wrong version number" (one handshake in twelve when
 * the client is another process). Pausing the socket before the 234 keeps the ClientHello buffered
 * until the TLS socket takes it over (Node's TLSSocket reads what the socket buffered).
 */
function holdHandshakeUntilWrapped(): void {
  const registry = createRequire(import.meta.url)('ftp-srv/src/commands/registry.js') as Record<string, AuthCommand>;
  const auth = registry.AUTH!;
  const upgrade = auth.handler;
  if ((upgrade as { holdsHandshake?: boolean }).holdsHandshake) return;
  const held: AuthCommand['handler'] = function (request) {
    const upgrades = request.command.arg.trim().toUpperCase() === 'TLS' && Boolean(this.server.options.tls) && !this.secure;
    if (upgrades) this.commandSocket.pause();
    return upgrade.call(this, request);
  };
  auth.handler = Object.assign(held, { holdsHandshake: true });

  // The held ClientHello still reaches the plain socket's 'data' listener as well (about one
  // connection in twenty under load). Parsed as a command, it was answered with a 502 over the new
  // TLS session, one reply ahead of the client, which then read the 530 to OPTS as its login's reply.
  const connection = createRequire(import.meta.url)('ftp-srv/src/connection.js') as { prototype: { _handleData(data: Buffer): unknown } };
  const handleData = connection.prototype._handleData;
  connection.prototype._handleData = function (data: Buffer) {
    if (data[0] === TLS_HANDSHAKE_RECORD) return undefined;
    return handleData.call(this, data);
  };
}

/** The first byte of a TLS handshake record: never the start of an FTP command. */
const TLS_HANDSHAKE_RECORD = 0x16;

export async function startLoopbackFtps(options: LoopbackFtpsOptions): Promise<LoopbackFtpsServer> {
  const { FtpSrv } = await import('ftp-srv');
  holdHandshakeUntilWrapped();
  const port = await freePort();
  const pasvMin = 20000 + Math.floor(Math.random() * 20000);
  const server = new FtpSrv({
    url: `${options.implicit ? 'ftps' : 'ftp'}://127.0.0.1:${port}`,
    pasv_url: '127.0.0.1',
    pasv_min: pasvMin,
    pasv_max: pasvMin + 200,
    tls: options.tls ? { key: options.tls.key, cert: options.tls.cert } : false,
    anonymous: false,
    greeting: 'Ferry loopback FTPS',
    log: silentLog,
  });
  server.on('login', ({ username, password }: { username: string; password: string }, accept: (opts: { root: string }) => void, reject: (error: Error) => void) => {
    if (username === options.username && password === options.password) accept({ root: resolve(options.root) });
    else reject(new Error('invalid login'));
  });
  server.on('client-error', () => {});
  await server.listen();
  return {
    port,
    close: async () => {
      await server.close();
    },
  };
}
