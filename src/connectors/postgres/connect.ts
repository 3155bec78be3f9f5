import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import pg from 'pg';
import { serverAnswered, STALL_DEFAULTS, watchStalls } from '../../engine/stall-watch.js';
import { describeConnectionError, redactUrl } from '../../util/errors.js';

/** The parts of node-pg's client the connector needs beyond its public API (pg 8). */
interface ClientInternals {
  connection: { stream: Socket };
  _activeQuery: unknown;
  _queryQueue: unknown[];
}

const internals = (client: pg.Client) => client as unknown as ClientInternals;

/** Whether a statement on this client is running or waiting to run. */
export function clientBusy(client: pg.Client): boolean {
  const c = internals(client);
  return Boolean(c._activeQuery) || c._queryQueue.length > 0;
}

/**
 * The `COPY ... TO STDOUT` stream that holds the connection and was not read to its end, if any:
 * nothing else runs on the connection until it is. (A stream read to its end stays the active
 * query until the server's ReadyForQuery, a moment later.)
 */
export function unfinishedCopyOut(client: pg.Client): Readable | undefined {
  // pg-copy-streams' COPY TO query is a Readable (its COPY FROM a Writable).
  const active = internals(client)._activeQuery;
  return active instanceof Readable && !active.readableEnded ? active : undefined;
}

/** Ends the client; a server that does not see it off within `ms` (frozen, gone) is not waited for. */
export async function endWithin(client: pg.Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([client.end().catch(() => {}), late]);
  clearTimeout(timer);
  internals(client).connection.stream.destroy();
}

/** Breaks the connection: every running and queued statement fails with `error`. */
export function breakConnection(client: pg.Client, error: Error): void {
  internals(client).connection.stream.destroy(error);
}

/**
 * Opens a client that reads timestamps in UTC; a failure names what could not be reached. TCP
 * keepalives notice a vanished peer, a stall watch a frozen one, and a lost connection's error
 * names the system it belonged to (never its password).
 */
export async function connect(url: string, what: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    // Bounded lock waits, as on MariaDB: a row held by another writer fails the batch, it does not hang the run.
    options: '-c TimeZone=UTC -c lock_timeout=60s',
    application_name: 'ferry',
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
  } as pg.ClientConfig);
  const where = `lost the connection to ${what} at ${redactUrl(url)}: `;
  nameLostConnection(client, where);
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectionError(what, url, error);
  }
  serverAnswered(url);
  const socket = internals(client).connection.stream;
  const watch = watchStalls({
    ...STALL_DEFAULTS,
    server: url,
    // Bytes read, not a 'data' listener: pg-copy-streams insists on being the socket's only one.
    progress: () => socket.bytesRead,
    busy: () => clientBusy(client),
    probe: () => probe(url, STALL_DEFAULTS.probeTimeoutMs),
    lost: (reason) => breakConnection(client, new Error(where + reason)),
  });
  socket.once('close', watch.stop);
  return client;
}

/**
 * Makes the errors of a lost connection name the system. node-pg hands the error it emits to every
 * running and queued statement right after its listeners return, so renaming it there covers them;
 * statements issued later get a fresh "not queryable" error, renamed on its way out. A statement
 * sent just before the server ended the session gets the server's own FATAL answer instead (no
 * 'error' event yet), so that answer is renamed too.
 */
function nameLostConnection(client: pg.Client, where: string): void {
  let lost = false;
  const named = (error: unknown) => {
    if (error instanceof Error && !error.message.startsWith('lost the connection')) error.message = where + error.message.replace(/\s*\n\s*/g, ' ');
    return error;
  };
  const namedIfLost = (error: unknown) => (lost || endsTheSession(error) ? named(error) : error);
  client.on('error', (error: Error) => {
    lost = true;
    named(error);
  });
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    const submittable = args[0] as { submit?: unknown; handleError?: (error: Error, connection: unknown) => void } | undefined;
    if (typeof submittable?.submit === 'function' && submittable.handleError) {
      const handleError = submittable.handleError.bind(submittable);
      submittable.handleError = (error, connection) => handleError(namedIfLost(error) as Error, connection);
      return query(...args);
    }
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(namedIfLost(error))) : result;
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}

/** The server's answers that end the session: administrator or crash shutdown, server not accepting connections. */
const SESSION_ENDING_CODES = new Set(['57P01', '57P02', '57P03']);

function endsTheSession(error: unknown): boolean {
  return error instanceof Error && SESSION_ENDING_CODES.has((error as { code?: string }).code ?? '');
}

async function probe(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'ferry-probe' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    // A frozen server would never answer a polite goodbye.
    internals(client).connection?.stream?.destroy();
  }
}
