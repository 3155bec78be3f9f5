import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { embeddedServerUrl, startEmbeddedPostgres, type RunningPostgres } from '../util/embedded-postgres.js';
import { ident } from '../util/sql.js';

/**
 * Default home of the local embedded server. As root the server runs as the `postgres` user, which
 * cannot enter root's home, so the data then lives under /tmp.
 */
export function defaultDataDir(): string {
  if (process.env.FERRY_DATA_DIR) return process.env.FERRY_DATA_DIR;
  return process.getuid?.() === 0 ? '/tmp/ferry-local/pgdata' : join(homedir(), '.ferry', 'pgdata');
}

function runningPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
    return Number(port);
  } catch {
    return undefined;
  }
}

/** A persistent embedded server: reused when already running on the data dir, else started here. */
export async function openLocalServer(dataDir: string): Promise<RunningPostgres & { startedHere: boolean }> {
  const port = runningPort(dataDir);
  if (port) {
    return { url: embeddedServerUrl(dataDir, port), port, dataDir, stop: async () => {}, startedHere: false };
  }
  const server = await startEmbeddedPostgres({ persistent: true, dataDir });
  return { ...server, startedHere: true };
}

/** Creates the database when missing and returns its URL on the same server. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${ident(database)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently
      });
    }
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
