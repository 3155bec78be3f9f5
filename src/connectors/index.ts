import type { Logger } from 'pino';
import type { SyncFlowSpec } from '../api/syncflow.js';
import { databaseOf, type DatabaseKind } from '../api/systems.js';
import type { Connector } from '../engine/connector.js';
import type { ExportSource } from '../export/source.js';
import type { FilesContext } from './files/index.js';
import { postgresConnector } from './postgres/index.js';
import { databaseIdentity } from './system-identity.js';
import { ConfigError } from '../util/errors.js';

/**
 * A connector whose module loads when the run first uses it: a run loads only the connectors its
 * flow names (a files source: ssh2, OpenPGP, csv-parse; an API: the http client; MariaDB: mysql2),
 * and each is built on first use exactly as it would have been up front. `finishRun` is passed on
 * for the kinds that have one.
 */
function onDemand(shape: Pick<Connector, 'kind' | 'what' | 'identity'>, load: () => Promise<Connector>, options: { finishRun?: boolean } = {}): Connector {
  let loaded: Promise<Connector> | undefined;
  const connector = () => (loaded ??= load());
  return {
    ...shape,
    open: async () => (await connector()).open(),
    ...(options.finishRun ? { finishRun: async (run: { runId: string }) => (await connector()).finishRun?.(run) } : {}),
  };
}

/** MariaDB/MySQL (./mysql, through mysql2): a run that reaches no MySQL database does not load the driver (~70 ms of CPU at every start otherwise). */
const mysqlConnector = (url: string, what: string): Connector =>
  onDemand({ kind: 'mysql', what, identity: databaseIdentity('mysql', url) }, async () => (await import('./mysql/index.js')).mysqlConnector(url, what));

const FACTORIES: Record<DatabaseKind, (url: string, what: string) => Connector> = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
};

const EXPORT_SOURCES: Record<DatabaseKind, (url: string, what: string, logger: Logger) => Promise<ExportSource>> = {
  postgres: async (url, what, logger) => (await import('./postgres/export-source.js')).PostgresExportSource.open(url, what, logger),
  mysql: async (url, what) => (await import('./mysql/index.js')).openMysqlExportSource(url, what),
};

/**
 * The connector for one side of a flow, reached by `url` (for an http side: the credentials its
 * Secrets hold, see connectors/http/client-config.ts); undefined when that side is an export.
 */
export function connectorFor(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Connector | undefined {
  if (side === 'source' && spec.source.files) {
    if (!files) throw new ConfigError('spec.source.files: a files source needs the flow, the state database, ExportTargets and Secrets');
    return onDemand({ kind: 'files', what: 'the source files' }, async () => (await import('./files/index.js')).filesConnector(spec, files), { finishRun: true });
  }
  if (spec[side].http) return onDemand({ kind: 'http', what: `the ${side} API` }, async () => (await import('./http/index.js')).httpConnector(spec, side, url, `the ${side} API`));
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
