import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../../../../src/util/embedded-postgres.js';
import { startMariaDb } from '../../../helpers/mariadb-server.js';
import type { SqlKind } from './setup.js';

/**
 * A server of one kind that only this test uses, so it can be killed (SIGKILL of every server
 * process), frozen (SIGSTOP: connections stay open but nothing answers) and brought back.
 */
export interface PrivateServer {
  /** A URL for a fresh database on it. */
  url: string;
  kill(): void;
  freeze(): void;
  thaw(): void;
  /** Starts the server again on its data directory and port after `kill`. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** `pid` and every descendant of it. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

function signalTree(pid: number, signal: NodeJS.Signals): void {
  for (const p of processTree(pid)) {
    try {
      process.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
}

export async function startPrivateServer(kind: SqlKind, database: string): Promise<PrivateServer> {
  return kind === 'postgres' ? privatePostgres(database) : privateMariaDb(database);
}

async function privatePostgres(database: string): Promise<PrivateServer> {
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-contract-pg-'));
  // As root the server runs as the `postgres` user, which must pass through this directory.
  chmodSync(scratch, 0o711);
  const dataDir = join(scratch, 'data');
  let server: RunningPostgres = await startEmbeddedPostgres({ persistent: true, dataDir });
  const postmaster = () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  let pid = postmaster();
  let killed = false;
  return {
    url: url.toString(),
    kill: () => {
      killed = true;
      signalTree(pid, 'SIGKILL');
    },
    freeze: () => signalTree(pid, 'SIGSTOP'),
    thaw: () => signalTree(pid, 'SIGCONT'),
    async restart() {
      server = await startEmbeddedPostgres({ persistent: true, dataDir, port: server.port });
      pid = postmaster();
      killed = false;
    },
    async stop() {
      signalTree(pid, 'SIGCONT');
      // embedded-postgres waits for the exit of a process that is already gone.
      if (!killed) await server.stop().catch(() => signalTree(pid, 'SIGKILL'));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

function mariadbPid(port: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith('mariadbd') && argv.includes(`--port=${port}`)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no mariadbd listens on port ${port}`);
}

async function waitForMariaDb(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = mysql.createConnection({ uri: url, connectTimeout: 2000 });
      await c.promise().query('SELECT 1');
      await c.promise().end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function privateMariaDb(database: string): Promise<PrivateServer> {
  const server = await startMariaDb();
  const url = new URL(server.url);
  const admin = mysql.createConnection({ uri: server.url });
  await admin.promise().query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await admin.promise().end();
  url.pathname = `/${database}`;
  let pid = mariadbPid(url.port);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  let again: ChildProcess | undefined;
  return {
    url: url.toString(),
    kill: () => signalTree(pid, 'SIGKILL'),
    freeze: () => signalTree(pid, 'SIGSTOP'),
    thaw: () => signalTree(pid, 'SIGCONT'),
    async restart() {
      again = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      pid = again.pid!;
      await waitForMariaDb(server.url);
    },
    async stop() {
      signalTree(pid, 'SIGCONT');
      if (again && again.exitCode === null && again.signalCode === null) {
        const exited = new Promise((r) => again!.once('exit', r));
        again.kill('SIGTERM');
        await exited;
      }
      await server.stop();
    },
  };
}
