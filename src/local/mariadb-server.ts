import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../util/embedded-postgres.js';

const run = promisify(execFile);

export const MARIADBD = '/usr/sbin/mariadbd';
// Loopback-only throwaway server (tests and the demo); its password is made for each run, so no
// other local user can log in with a known one while it runs.
const USER = 'ferry';
const START_TIMEOUT_MS = 60_000;

export interface RunningMariaDb {
  /** `mysql://user:pass@127.0.0.1:port/`: the test user may create and use any database. */
  url: string;
  startMs: number;
  stop(): Promise<void>;
}

/** Whether this machine can start its own MariaDB server for the tests. */
export function mariadbInstalled(): boolean {
  return existsSync(MARIADBD);
}

/**
 * Starts a private `mariadbd` on a free loopback port with a fresh data directory (a copy of an
 * installed one, see `dataTemplate`) the way the embedded PostgreSQL is started, and a password
 * user for TCP connections.
 */
export async function startMariaDb(): Promise<RunningMariaDb> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mariadb-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const port = await freePort();
  // base64url: nothing in it needs quoting in SQL or encoding in a URL.
  const password = randomBytes(18).toString('base64url');
  cpSync(await dataTemplate(), dataDir, { recursive: true });
  const server = spawn(
    MARIADBD,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      // Its own temporary files live in its own directory: a clean-up of /tmp by anything else cannot pull them away.
      `--tmpdir=${dir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--innodb-flush-log-at-trx-commit=2',
      '--innodb-log-file-size=8M',
      '--local-infile=1',
      '--max-connections=300',
      `--log-error=${join(dir, 'error.log')}`,
    ],
    { stdio: 'ignore' },
  );
  // A test run that ends without its teardown must not leave the server behind.
  const orphaned = () => server.kill('SIGKILL');
  process.once('exit', orphaned);
  const stop = async () => {
    process.off('exit', orphaned);
    await stopServer(server, dir);
  };
  try {
    await waitForPing(server, socket, join(dir, 'error.log'));
    await admin(socket, [
      `CREATE USER '${USER}'@'127.0.0.1' IDENTIFIED BY '${password}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'127.0.0.1'`,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `mysql://${USER}:${password}@127.0.0.1:${port}/`, startMs: Date.now() - started, stop };
}

/**
 * A freshly installed data directory, made once per MariaDB version and copied for every run:
 * `mariadb-install-db` is most of the start time, a copy of its 26 MB is a fraction of a second.
 */
async function dataTemplate(): Promise<string> {
  const { stdout } = await run(MARIADBD, ['--version']);
  const version = /Ver\s+(\S+)/.exec(stdout)?.[1] ?? 'unknown';
  const template = join(homedir(), '.cache', 'ferry', `mariadb-datadir-${version}`);
  if (existsSync(template)) return template;
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-mariadb-template-'));
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${join(scratch, 'data')}`,
    '--user=root',
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
    '--innodb-log-file-size=8M',
  ]);
  mkdirSync(dirname(template), { recursive: true });
  try {
    renameSync(join(scratch, 'data'), template);
  } catch (error) {
    // Another run made it first: theirs is as good as ours.
    if (!existsSync(template)) throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return template;
}

async function admin(socket: string, statements: string[]): Promise<void> {
  await run('mariadb', ['--no-defaults', `--socket=${socket}`, '--user=root', '-e', statements.join('; ')]);
}

async function waitForPing(server: ChildProcess, socket: string, errorLog: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`mariadbd exited with code ${server.exitCode} while starting (see ${errorLog})`);
    try {
      await run('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '--user=root', 'ping']);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`mariadbd did not answer within ${START_TIMEOUT_MS / 1000}s (see ${errorLog})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stopServer(server: ChildProcess, dir: string): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timeout = setTimeout(() => server.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timeout);
  }
  rmSync(dir, { recursive: true, force: true });
}

