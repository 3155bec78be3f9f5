import type { SyncFlowSpec } from '../api/syncflow.js';
import { databaseOf, type DatabaseKind } from '../api/systems.js';
import type { Connector } from '../engine/connector.js';
import { mysqlConnector } from './mysql/index.js';
import { postgresConnector } from './postgres/index.js';

const FACTORIES: Record<DatabaseKind, (url: string, what: string) => Connector> = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
};

/** The connector for one side of a flow, reached by `url`; undefined when that side is no database (an export). */
export function connectorFor(spec: SyncFlowSpec, side: 'source' | 'target', url: string): Connector | undefined {
  const database = databaseOf(spec[side], side);
  return database ? FACTORIES[database.kind](url, `the ${side} database`) : undefined;
}
