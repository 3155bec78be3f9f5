import type { Connector, Session } from '../../engine/connector.js';
import type { ExportSource } from '../../export/source.js';
import { databaseIdentity } from '../system-identity.js';
import { connect } from './connect.js';
import { openDb } from './db.js';
import { MysqlExportSource } from './export-source.js';
import { MysqlSession } from './session.js';

export { MYSQL_CAPABILITIES } from './session.js';

/** MariaDB (10.5+) and MySQL 8 through mysql2. `what` names the system in errors ("the target database"). */
export function mysqlConnector(url: string, what: string): Connector {
  return {
    kind: 'mysql',
    what,
    identity: databaseIdentity('mysql', url),
    async open(): Promise<Session> {
      const { connection, features } = await connect(url, what);
      return new MysqlSession(openDb(connection, what, url), features);
    },
  };
}

/** A MariaDB/MySQL database as the source of a file export. */
export async function openMysqlExportSource(url: string, what: string): Promise<ExportSource> {
  const { connection, features } = await connect(url, what);
  const db = openDb(connection, what, url);
  return new MysqlExportSource(db, new MysqlSession(db, features));
}
