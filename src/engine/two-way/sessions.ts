import { PostgresSession } from '../../connectors/postgres/session.js';
import { ConfigError } from '../../util/errors.js';
import type { Session } from '../connector.js';

/**
 * Two-way sync still reads and writes both systems with PostgreSQL statements of its own; until it
 * moves behind the connector interface, it needs PostgreSQL on both sides (the validator says so too).
 */
export function postgresSession(session: Session, side: 'source' | 'target'): PostgresSession {
  if (session instanceof PostgresSession) return session;
  throw new ConfigError(`spec.${side}: two-way flows need PostgreSQL on both sides in this version`);
}
