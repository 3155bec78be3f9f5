import { createServer, type AddressInfo } from 'node:net';
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

export async function startLoopbackFtps(options: LoopbackFtpsOptions): Promise<LoopbackFtpsServer> {
  const { FtpSrv } = await import('ftp-srv');
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
