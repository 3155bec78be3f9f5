import pg from 'pg';
import { describeConnectionError } from '../../util/errors.js';

/**
 * Opens a client that reads timestamps in UTC; a failure names what could not be reached. TCP
 * keepalives let a run notice a server that vanished without closing the connection.
 */
export async function connect(url: string, what: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    options: '-c TimeZone=UTC',
    application_name: 'ferry',
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
  } as pg.ClientConfig);
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectionError(what, url, error);
  }
  return client;
}
