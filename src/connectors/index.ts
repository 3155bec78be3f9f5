import type { Logger } from 'pino';
import type { SyncFlowSpec } from '../api/syncflow.js';
import { databaseOf, type DatabaseKind } from '../api/systems.js';
import type { Connector } from '../engine/connector.js';
import type { ExportSource } from '../export/source.js';
import type { FilesContext } from './files/index.js';
import { postgresConnector } from './postgres/index.js';
import { ConfigError } from '../util/errors.js';

/**
 * The connector for one side of a flow, reached by `url` (for an http side: the credentials its
 * Secrets hold, see connectors/http/client-config.ts); undefined when that side is an export.
 * Only the connectors a flow names are loaded (a files source: ssh2, OpenPGP, csv-parse; an API:
 * the http client; MariaDB: mysql2), and before it returns, so that opening it starts connecting at
 * once (an SSH handshake, ~0.3-0.4 s, side by side with the state database's).
 */
export async function connectorFor(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Promise<Connector | undefined> {
  if (side === 'source' && spec.source.files) {
    if (!files) throw new ConfigError('spec.source.files: a files source needs the flow, the state database, ExportTargets and Secrets');
    return (await import('./files/index.js')).filesConnector(spec, files);
  }
  if (spec[side].http) return (await import('./http/index.js')).httpConnector(spec, side, url, `the ${side} API`);
  const database = databaseOf(spec[side], side);
  if (!database) return undefined;
  const what = `the ${side} database`;
  return database.kind === 'mysql' ? (await import('./mysql/index.js')).mysqlConnector(url, what) : postgresConnector(url, what);
}

const EXPORT_SOURCES: Record<DatabaseKind, (url: string, what: string, logger: Logger) => Promise<ExportSource>> = {
  postgres: async (url, what, logger) => (await import('./postgres/export-source.js')).PostgresExportSource.open(url, what, logger),
  mysql: async (url, what) => (await import('./mysql/index.js')).openMysqlExportSource(url, what),
};

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
