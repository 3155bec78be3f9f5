import type { Socket } from 'node:net';
import mysql from 'mysql2';
import { serverAnswered, STALL_DEFAULTS, watchStalls } from '../../engine/stall-watch.js';
import { describeConnectionError, FerryError, redactSecrets, redactUrl } from '../../util/errors.js';

/**
 * Session settings: UTC for TIMESTAMP columns and cursors; strict mode so a value a column cannot
 * hold is an error (never a silent truncation or a zero date); no backslash escapes in string
 * literals (values travel as parameters anyway, and no literal of ours needs one); bounded lock waits. No statement time
 * limit: a streaming scan of a large table legitimately runs for minutes, and a lost server is
 * caught by TCP keepalive. The long net_write_timeout lets the engine hold a paused scan while it
 * writes a batch elsewhere.
 */
const SESSION_SETUP = [
  "SET time_zone = '+00:00'",
  "SET sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES'",
  'SET lock_wait_timeout = 60, innodb_lock_wait_timeout = 60',
  'SET net_write_timeout = 3600, net_read_timeout = 600',
];

const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_DELAY_MS = 10_000;
// Statements are prepared per distinct text (bucketed sizes keep that small); the server caps all sessions together.
const MAX_PREPARED_STATEMENTS = 128;

/** What the server offers beyond MySQL 8's baseline. */
export interface ServerFeatures {
  /** `INSERT ... RETURNING` (MariaDB 10.5+): generated keys in one statement. */
  returning: boolean;
  /** `LOAD DATA LOCAL INFILE` is enabled on the server (MySQL 8 ships with it off). */
  localInfile: boolean;
}

export interface Connected {
  connection: mysql.Connection;
  features: ServerFeatures;
}

function connectionOptions(url: string): mysql.ConnectionOptions {
  return {
    uri: url,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    jsonStrings: true,
    charset: 'UTF8MB4_BIN',
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableKeepAlive: true,
    keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
    maxPreparedStatements: MAX_PREPARED_STATEMENTS,
    multipleStatements: false,
  };
}

/** Opens one connection and applies the session settings; failures are one line with the password masked. */
export async function connect(url: string, what: string): Promise<Connected> {
  let connection: mysql.Connection | undefined;
  try {
    connection = mysql.createConnection(connectionOptions(url));
    // A connection that dies between statements reports here; statements report their own errors.
    connection.on('error', () => {});
    const promise = connection.promise();
    await promise.connect();
    for (const statement of SESSION_SETUP) await promise.query(statement);
    const [rows] = await promise.query({ sql: 'SELECT VERSION(), CAST(@@local_infile AS CHAR)', rowsAsArray: true });
    const [version, localInfile] = Array.isArray(rows) && Array.isArray(rows[0]) ? rows[0].map(String) : ['', '0'];
    serverAnswered(url);
    watchConnection(connection, url);
    // MariaDB renders the boolean as 'ON', MySQL as '1'.
    return { connection, features: { returning: /mariadb/i.test(version), localInfile: /^(1|on)$/i.test(localInfile) } };
  } catch (error) {
    connection?.destroy();
    throw describeConnectionError(what, url, error);
  }
}

/** The parts of a mysql2 connection the stall watch needs beyond its public API (mysql2 3.x). */
interface ConnectionInternals {
  stream: Socket;
  _command: unknown;
  _commands: { length: number };
}

/**
 * A frozen server leaves the socket open and TCP keepalive cannot tell (its kernel still answers),
 * so a statement waiting in silence is checked with a fresh connection; when the server does not
 * answer that either, the socket is broken and the statement fails as a lost connection.
 */
function watchConnection(connection: mysql.Connection, url: string): void {
  const internals = connection as unknown as ConnectionInternals;
  const watch = watchStalls({
    ...STALL_DEFAULTS,
    server: url,
    progress: () => internals.stream.bytesRead,
    busy: () => Boolean(internals._command) || internals._commands.length > 0,
    probe: () => probe(url),
    lost: (reason) => internals.stream.destroy(new Error(reason)),
  });
  internals.stream.once('close', watch.stop);
}

async function probe(url: string): Promise<void> {
  const connection = mysql.createConnection({ uri: url, connectTimeout: STALL_DEFAULTS.probeTimeoutMs });
  connection.on('error', () => {});
  try {
    await connection.promise().query('SELECT 1');
  } finally {
    // A frozen server would never answer a polite goodbye.
    connection.destroy();
  }
}

/** Errors after connecting: a lost connection names the system; statement errors pass through. */
export function describeQueryError(what: string, url: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const fatal = 'fatal' in error && error.fatal === true;
  const closed = /closed state|connection lost/i.test(error.message);
  if (!fatal && !closed) return error;
  return new FerryError(redactSecrets(`lost the connection to ${what} at ${redactUrl(url)}: ${error.message.replace(/\s*\n\s*/g, ' ')}`, [url]), undefined, {
    cause: error,
  });
}
