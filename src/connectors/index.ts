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

/** A connector built now, or the parts of one whose module loads on first use. */
type Planned = { now: Connector } | { shape: Pick<Connector, 'kind' | 'what' | 'identity'>; load: () => Promise<Connector>; finishRun?: boolean };

function plannedConnector(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Planned | undefined {
  if (side === 'source' && spec.source.files) {
    if (!files) throw new ConfigError('spec.source.files: a files source needs the flow, the state database, ExportTargets and Secrets');
    return { shape: { kind: 'files', what: 'the source files' }, load: async () => (await import('./files/index.js')).filesConnector(spec, files), finishRun: true };
  }
  if (spec[side].http) {
    const what = `the ${side} API`;
    return { shape: { kind: 'http', what }, load: async () => (await import('./http/index.js')).httpConnector(spec, side, url, what) };
  }
  const database = databaseOf(spec[side], side);
  if (!database) return undefined;
  const what = `the ${side} database`;
  // MariaDB/MySQL (./mysql, through mysql2): a run that reaches no MySQL database does not load the driver (~70 ms of CPU at every start otherwise).
  if (database.kind === 'mysql') return { shape: { kind: 'mysql', what, identity: databaseIdentity('mysql', url) }, load: async () => (await import('./mysql/index.js')).mysqlConnector(url, what) };
  return { now: postgresConnector(url, what) };
}

const EXPORT_SOURCES: Record<DatabaseKind, (url: string, what: string, logger: Logger) => Promise<ExportSource>> = {
  postgres: async (url, what, logger) => (await import('./postgres/export-source.js')).PostgresExportSource.open(url, what, logger),
  mysql: async (url, what) => (await import('./mysql/index.js')).openMysqlExportSource(url, what),
};

/**
 * The connector for one side of a flow, reached by `url` (for an http side: the credentials its
 * Secrets hold, see connectors/http/client-config.ts); undefined when that side is an export.
 * Its module loads when it is first used.
 */
export function connectorFor(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Connector | undefined {
  const planned = plannedConnector(spec, side, url, files);
  return planned && ('now' in planned ? planned.now : onDemand(planned.shape, planned.load, { finishRun: planned.finishRun }));
}

/**
 * As connectorFor, with the connector's module loaded before it returns: a run takes its connectors
 * from here, so that opening them starts connecting at once (an SSH handshake, ~0.3-0.4 s, side by
 * side with the state database's) instead of first compiling the connector's code.
 */
export async function loadConnector(spec: SyncFlowSpec, side: 'source' | 'target', url: string, files?: FilesContext): Promise<Connector | undefined> {
  const planned = plannedConnector(spec, side, url, files);
  return planned && ('now' in planned ? planned.now : planned.load());
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
