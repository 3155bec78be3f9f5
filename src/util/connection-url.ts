import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

const ENCODE_HINT = 'percent-encode special characters in the user name and password (# as %23, / as %2F, @ as %40, ? as %3F, : as %3A)';

/**
 * Why a database connection string cannot be right, without repeating it (it may hold a password),
 * or undefined. Drivers otherwise answer `Invalid URL` or resolve a host named "base".
 */
export function connectionUrlProblem(url: string): string | undefined {
  if (url.startsWith('embedded://')) return undefined;
  if (!/^[a-z][\w+.-]*:\/\//i.test(url)) return 'is not a URL like postgres://host:5432/database (with the user and the percent-encoded password before the host)';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a valid URL; ${ENCODE_HINT}`;
  }
  // A database URL has no fragment, and an `@` after the host means the password held a raw `/`, `?` or `#`.
  if (parsed.hash !== '' || /@/.test(parsed.pathname + parsed.search)) return `is not read as intended; ${ENCODE_HINT}`;
  return undefined;
}

/** Throws a ConfigError naming `where` (a flag, a Secret) when the connection string cannot be right. */
export function checkConnectionUrl(url: string, where: string): string {
  const problem = connectionUrlProblem(url);
  if (problem) throw new ConfigError(`${where}: the connection string ${problem}`);
  return url;
}

/** Where a database's URL comes from: the flow's field, the Secret and its key (never the URL). */
export function checkDatabaseUrl(url: string, database: { path: string; secretRef: { name: string; key?: string } }): string {
  return checkConnectionUrl(url, `${database.path}.secretRef: Secret "${database.secretRef.name}" key "${database.secretRef.key ?? 'url'}"`);
}

export interface StateDbOptions {
  stateDb?: string;
  stateDbFile?: string;
}

export const STATE_DB_ENV = 'FERRY_STATE_DB_URL';

/**
 * The state database URL from --state-db, --state-db-file or $FERRY_STATE_DB_URL (in that order),
 * checked and named by where it came from; undefined when none is set.
 */
export function stateDbUrlOf(options: StateDbOptions): string | undefined {
  if (options.stateDb !== undefined) return checkConnectionUrl(options.stateDb, '--state-db');
  if (options.stateDbFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.stateDbFile, 'utf8');
    } catch (error) {
      throw new ConfigError(`--state-db-file: cannot read ${options.stateDbFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return checkConnectionUrl(text.trim(), `--state-db-file ${options.stateDbFile}`);
  }
  const fromEnv = process.env[STATE_DB_ENV];
  return fromEnv ? checkConnectionUrl(fromEnv, `$${STATE_DB_ENV}`) : undefined;
}
