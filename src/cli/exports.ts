import { Command, Option } from 'commander';
import type { SyncFlow } from '../api/syncflow.js';
import { databaseOf } from '../api/systems.js';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { runSync } from '../connectors/run.js';
import { connect } from '../connectors/postgres/connect.js';
import { CHANGE_LOG_TABLE, installChangeLog } from '../connectors/postgres/change-log.js';
import { renderInstances } from '../export/dashboard.js';
import { splitTable } from '../export/source.js';
import { listExportInstances } from '../export/history.js';
import { secretsFromManifests } from '../export/secrets.js';
import { defaultDataDir, ensureDatabase, openLocalServer } from '../local/embedded-server.js';
import { loadValidManifests, requireDatabaseUrl } from '../local/local-run.js';
import { embeddedDatabaseName } from '../local/secrets.js';
import { openStateStore, type StateStore } from '../store/db.js';
import { stateDbUrlOf } from '../util/connection-url.js';
import { ConfigError } from '../util/errors.js';
import { stateDbFileOption, stateDbOption } from './state-db-options.js';
import { createLogger } from '../util/logger.js';

export interface LocalStateOptions {
  stateDb?: string;
  stateDbFile?: string;
  dataDir?: string;
}

/**
 * Opens the state DB a local `ferry run` uses (the embedded server under the data dir) unless a URL
 * is given, runs `work`, and stops an embedded server it had to start.
 */
export async function withLocalState<T>(options: LocalStateOptions, work: (store: StateStore, resolveUrl: (url: string) => Promise<string>) => Promise<T>): Promise<T> {
  let server: Awaited<ReturnType<typeof openLocalServer>> | undefined;
  const resolveUrl = async (url: string) => {
    const database = embeddedDatabaseName(url);
    if (!database) return url;
    server ??= await openLocalServer(options.dataDir ?? defaultDataDir());
    return ensureDatabase(server.url, database);
  };
  try {
    const store = await openStateStore(stateDbUrlOf(options) ?? (await resolveUrl('embedded://ferry_state')));
    try {
      return await work(store, resolveUrl);
    } finally {
      await store.close();
    }
  } finally {
    if (server?.startedHere) await server.stop();
  }
}

export function flowIdOf(flow: SyncFlow): string {
  return `${flow.metadata.namespace ?? 'default'}/${flow.metadata.name}`;
}

function pickExportFlow(files: string[], name: string | undefined): { flow: SyncFlow; loaded: ReturnType<typeof loadValidManifests> } {
  const loaded = loadValidManifests(files);
  const exports = loaded.flows.filter((f) => f.spec.target.export);
  const flow = name ? loaded.flows.find((f) => f.metadata.name === name) : exports.length === 1 ? exports[0] : undefined;
  if (!flow) {
    if (name) throw new ConfigError(`SyncFlow "${name}" not found in ${files.join(', ')}`);
    throw new ConfigError(`choose an export SyncFlow with --flow (found: ${exports.map((f) => f.metadata.name).join(', ') || 'none'})`);
  }
  if (!flow.spec.target.export) throw new ConfigError(`SyncFlow "${flow.metadata.name}" is not an export (spec.target.export is not set)`);
  return { flow, loaded };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerExportsCommand(program: Command): void {
  program
    .command('exports')
    .description('list past export instances of a flow with their creation and transfer status, or re-transfer one')
    .requiredOption('-f, --file <path...>', 'manifest file or directory (SyncFlow, ExportTargets, Secrets)')
    .option('--flow <name>', 'export SyncFlow (default: the only one in the manifests)')
    .option('--retransfer <run>', 'send the archived files of this run again')
    .option('--install-change-log', "Events mode: install the change-log table and triggers on the flow's source tables now (the first run does it otherwise)")
    .option('--target <name>', 'with --retransfer: only this ExportTarget (repeatable)', collect)
    .option('--limit <n>', 'instances to list', '20')
    .addOption(stateDbOption('the embedded PostgreSQL of `ferry run`'))
    .addOption(stateDbFileOption())
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options) => {
      const { flow, loaded } = pickExportFlow(options.file, options.flow);
      const flowId = flowIdOf(flow);
      await withLocalState(options, async (store, resolveUrl) => {
        if (options.installChangeLog) {
          const source = databaseOf(flow.spec.source, 'source');
          if (source?.kind !== 'postgres') throw new ConfigError('--install-change-log needs a postgres source (spec.source.postgres)');
          const sourceUrl = await resolveUrl(requireDatabaseUrl(loaded, flow.spec, 'source'));
          const tables = flow.spec.entities.map((e) => splitTable(e.source.table, source.namespace));
          const client = await connect(sourceUrl, 'the source database');
          try {
            await installChangeLog(client, tables);
          } finally {
            await client.end();
          }
          process.stdout.write(`installed the change log (${CHANGE_LOG_TABLE}) and triggers on ${tables.map((t) => `${t.schema}.${t.table}`).join(', ')}\n`);
          return;
        }
        if (options.retransfer) {
          const format: ReportFormat = options.output === 'json' ? 'json' : 'table';
          const logger = createLogger();
          const sourceUrl = await resolveUrl(requireDatabaseUrl(loaded, flow.spec, 'source'));
          const stateUrl = stateDbUrlOf(options) ?? (await resolveUrl('embedded://ferry_state'));
          const report = await runSync({
            flowId,
            spec: flow.spec,
            mode: 'Retransfer',
            sourceUrl,
            targetUrl: '',
            stateUrl,
            logger,
            export: {
              targets: Object.fromEntries(loaded.targets.map((t) => [t.metadata.name, t.spec])),
              secrets: secretsFromManifests(loaded.secrets),
              retransfer: { runId: options.retransfer, ...(options.target ? { targets: options.target } : {}) },
            },
          });
          process.stdout.write(renderReport(report, format) + '\n');
          return;
        }
        const instances = await listExportInstances(store.pool, flowId, Number(options.limit));
        process.stdout.write((options.output === 'json' ? JSON.stringify(instances, null, 2) : renderInstances(flowId, instances)) + '\n');
      });
    });
}
