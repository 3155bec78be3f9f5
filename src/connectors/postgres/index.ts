import type { Connector, Session } from '../../engine/connector.js';
import { connect } from './connect.js';
import { PostgresSession } from './session.js';

export { PostgresSession } from './session.js';
export { connect } from './connect.js';

/** A PostgreSQL database reached by URL; `what` names it in errors ("the source database"). */
export function postgresConnector(url: string, what: string): Connector {
  return {
    kind: 'postgres',
    what,
    open: async (): Promise<Session> => new PostgresSession(await connect(url, what)),
  };
}
