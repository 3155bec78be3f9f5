import type { Logger } from 'pino';
import type { SyncFlowSpec } from '../api/syncflow.js';
import { databaseOf, type DatabaseKind } from '../api/systems.js';
import type { Connector } from '../engine/connector.js';
import type { ExportSource } from '../export/source.js';
import { filesConnector, type FilesContext } from './files/index.js';
import { PostgresExportSource } from './postgres/export-source.js';
import { postgresConnector } from './postgres/index.js';
import { httpConnector } from './http/index.js';
import { databaseIdentity } from './system-identity.js';
import { ConfigError } from '../util/errors.js';

/**
 * MariaDB/MySQL (./mysql, through mysql2), loaded when a flow opens it: a run that reaches no
 * MySQL database does not load the driver (~70 ms of CPU at every start otherwise).
 */
function mysqlConnector(url: string, what: string): Connector {
  let loaded: Promise<Connector> | undefined;
  return {
    kind: 'mysql',
    what,
    identity: databaseIdentity('mysql', url),
    async open() {
      loaded ??= import('./mysql/index.js').then((mysql) => mysql.mysqlConnector(url, what));
      return (await loaded).open();
    },
  };
}

const FACTORIES: Record<DatabaseKind, (url: string, what: string) => Connector> = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
};

const EXPORT_SOURCES: Record<DatabaseKind, (url: string, what: string, logger: Logger) => Promise<ExportSource>> = {
  postgres: (url, what, logger) => PostgresExportSource.open(url, what, logger),
  mysql: async (url, what) => (await import('./mysql/index.js')).openMysqlExportSource(url, what),
};

/**
 * The connector for one side of a flow, reached by `url` (for an http side: the credentials its
 * Secrets hold, see connectors/http/client-config.ts); undefined when that side is an export.
 */
export function connectorFor(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Connector | undefined {
  if (side === 'source' && spec.source.files) {
    if (!files) throw new ConfigError('spec.source.files: a files source needs the flow, the state database, ExportTargets and Secrets');
    return filesConnector(spec, files);
  }
  if (spec[side].http) return httpConnector(spec, side, url, `the ${side} API`);
  const database = databaseOf(spec[side], side);
  return database ? FACTORIES[database.kind](url, `the ${side} database`) : undefined;
}

/** Opens the source database of an export flow for reading. */
export function openExportSource(spec: SyncFlowSpec, url: string, logger: Logger): Promise<ExportSource> {
  const database = databaseOf(spec.source, 'source');
  if (!database) throw new ConfigError('spec.source: an export needs a database source (postgres or mysql)');
  return EXPORT_SOURCES[database.kind](url, 'the source database', logger);
}

/** The namespace an export flow's tables live in when they name none ('' = the URL's database). */
export function exportNamespace(spec: SyncFlowSpec): string {
  return databaseOf(spec.source, 'source')?.namespace ?? '';
}
