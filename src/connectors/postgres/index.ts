import type { Connector, Session } from '../../engine/connector.js';
import { PostgresChangeFeed } from './change-feed.js';
import { databaseIdentity } from '../system-identity.js';
import { connect } from './connect.js';
import { PostgresSession } from './session.js';
import { tablesWithTrigger } from './triggers.js';

export { PostgresSession } from './session.js';
export { connect } from './connect.js';

/** A PostgreSQL database reached by URL; `what` names it in errors ("the source database"). */
export function postgresConnector(url: string, what: string): Connector {
  return {
    kind: 'postgres',
    what,
    identity: databaseIdentity('postgres', url),
    open: async (): Promise<Session> => new PostgresSession(await connect(url, what)),
    // LISTEN/NOTIFY, when `ferry install-triggers` put change triggers on any of the tables.
    async changeFeed(namespace, tables, logger) {
      const client = await connect(url, what);
      try {
        const triggered = new Set(await tablesWithTrigger(client, namespace || 'public'));
        if (!tables.some((t) => triggered.has(t.split('.').pop()!))) return undefined;
      } finally {
        await client.end();
      }
      return PostgresChangeFeed.listen([url], logger);
    },
  };
}
