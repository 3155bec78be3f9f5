import { TableClass } from '../util/on-demand.js';
import { Command, Option } from 'commander';
import { PAIR_CATEGORIES, type PairCategory, type SyncFlow } from '../api/syncflow.js';
import type { LoadedManifests } from '../api/manifests.js';
import { databaseOf, type SystemSide } from '../api/systems.js';
import type { FileLocationContext } from '../connectors/files/location.js';
import { connectorFor } from '../connectors/index.js';
import type { Connector } from '../engine/connector.js';
import { listPairs, type PairListing } from '../engine/two-way/inspect.js';
import { exportContext, loadValidManifests, requireDatabaseUrl } from '../local/local-run.js';
import { stateDbUrlOf } from '../util/connection-url.js';
import { ConfigError } from '../util/errors.js';
import { stateDbFileOption, stateDbOption } from './state-db-options.js';
import { createLogger } from '../util/logger.js';
import { flowIdOf, withLocalState } from './exports.js';
import { categorySummary, flowCategories, listNewRecords, renderNewRecords } from './unpaired.js';

export interface FlowDatabases {
  flow: SyncFlow;
  flowId: string;
  loaded: LoadedManifests;
  sourceUrl: string;
  targetUrl: string;
  stateUrl: string;
  /** The manifests' ExportTargets and Secrets: how a files source reaches its location. */
  files: FileLocationContext;
}

export interface FlowOptions {
  file: string[];
  flow?: string;
  stateDb?: string;
  stateDbFile?: string;
  dataDir?: string;
}

/** Picks the flow from the manifests and resolves its databases as `ferry run` does (embedded ones included). */
export async function withFlowDatabases<T>(options: FlowOptions, work: (dbs: FlowDatabases) => Promise<T>): Promise<T> {
  const loaded = loadValidManifests(options.file);
  const candidates = loaded.flows.filter((f) => databaseOf(f.spec.target, 'target'));
  const flow = options.flow ? loaded.flows.find((f) => f.metadata.name === options.flow) : candidates.length === 1 ? candidates[0] : undefined;
  if (!flow) {
    if (options.flow) throw new ConfigError(`SyncFlow "${options.flow}" not found in ${options.file.join(', ')}`);
    throw new ConfigError(`choose a SyncFlow with --flow (found: ${candidates.map((f) => f.metadata.name).join(', ') || 'none'})`);
  }
  if (!databaseOf(flow.spec.target, 'target')) throw new ConfigError(`SyncFlow "${flow.metadata.name}" exports files; it has no pairs`);
  return withLocalState(options, async (_store, resolveUrl) =>
    work({
      flow,
      flowId: flowIdOf(flow),
      loaded,
      // A files source has no URL: it reads through `files` (flowConnector, runSync's `files`).
      sourceUrl: flow.spec.source.files ? '' : await resolveUrl(requireDatabaseUrl(loaded, flow.spec, 'source')),
      targetUrl: await resolveUrl(requireDatabaseUrl(loaded, flow.spec, 'target')),
      stateUrl: stateDbUrlOf(options) ?? (await resolveUrl('embedded://ferry_state')),
      files: exportContext(loaded),
    }),
  );
}

/**
 * The connector of one side of the flow, for a look that is not a run (pairs with their values, a
 * change feed); a files source reads through the manifests' ExportTargets and Secrets, as a dry run
 * does: it records, moves and applies no file.
 */
export function flowConnector(dbs: FlowDatabases, side: SystemSide): Promise<Connector | undefined> {
  return connectorFor(dbs.flow.spec, side, side === 'source' ? dbs.sourceUrl : dbs.targetUrl, { ...dbs.files, flowId: dbs.flowId, stateUrl: dbs.stateUrl, dryRun: true });
}

export function addFlowOptions(command: Command): Command {
  return command
    .requiredOption('-f, --file <path...>', 'manifest file or directory (repeatable)')
    .option('--flow <name>', 'SyncFlow (default: the only one with a database target)')
    .addOption(stateDbOption('embedded PostgreSQL under --data-dir'))
    .addOption(stateDbFileOption())
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL');
}

const show = (value: string | null) => (value === null ? '∅' : value);

export function renderPairs(pairs: PairListing[]): string {
  if (pairs.length === 0) return 'no pairs found';
  const Table = TableClass();
  const table = new Table({
    head: ['entity', 'source key', 'target key', 'category', 'field (source / target)', 'source value', 'target value'],
    style: { head: [], border: [] },
  });
  for (const p of pairs) {
    const rows = p.differences.length > 0 ? p.differences : [undefined];
    rows.forEach((d, i) => {
      const first = i === 0;
      const missing = p.sourceMissing ? 'source record gone' : p.targetMissing ? 'target record gone' : '';
      table.push([
        first ? p.entity : '',
        first ? p.sourceKey : '',
        first ? p.targetKey : '',
        first ? p.category : '',
        d ? (d.source === d.target ? d.source : `${d.source} / ${d.target}`) : missing,
        d ? show(d.sourceValue) : '',
        d ? show(d.targetValue) : '',
      ]);
    });
  }
  return table.toString();
}

function checkEntity(dbs: FlowDatabases, entity: string | undefined): void {
  if (entity && !dbs.flow.spec.entities.some((e) => e.name === entity)) throw new ConfigError(`unknown entity "${entity}" in SyncFlow ${dbs.flow.metadata.name}`);
}

export function registerPairsCommand(program: Command): void {
  addFlowOptions(
    program
      .command('pairs')
      .description(
        'list the pairs of a flow by category (synchronised, conflict, deleted, deactivated, inactive) with the values that differ, or the unpaired records (--category new) with suggested partners',
      ),
  )
    .option('--entity <name>', 'only this entity')
    .addOption(new Option('--category <category>', 'only pairs in this category').choices([...PAIR_CATEGORIES]))
    .addOption(new Option('--limit <n>', 'at most this many pairs').argParser((v) => Number(v)).default(200))
    .option('--continue <token>', 'with --category new: the next page, as printed by the previous one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options) => {
      if (!Number.isInteger(options.limit) || options.limit < 1) throw new ConfigError('--limit takes a whole number from 1');
      if (options.continue && options.category !== 'new') throw new ConfigError('--continue pages --category new');
      if (options.category === 'new') {
        const page = await withFlowDatabases(options, (dbs) => {
          checkEntity(dbs, options.entity);
          return listNewRecords(dbs.stateUrl, dbs.flowId, dbs.flow.spec, { entity: options.entity, limit: options.limit, continue: options.continue });
        });
        process.stdout.write((options.output === 'json' ? JSON.stringify(page, null, 2) : renderNewRecords(page)) + '\n');
        return;
      }
      const [pairs, summary] = await withFlowDatabases(options, async (dbs) => {
        checkEntity(dbs, options.entity);
        const listed = await listPairs({
          flowId: dbs.flowId,
          spec: dbs.flow.spec,
          connectors: {
            source: (await flowConnector(dbs, 'source'))!,
            target: (await flowConnector(dbs, 'target'))!,
          },
          stateUrl: dbs.stateUrl,
          entity: options.entity,
          category: options.category as PairCategory | undefined,
          limit: options.limit,
          logger: createLogger(),
        });
        return [listed, options.output === 'json' ? '' : categorySummary(await flowCategories(dbs.stateUrl, dbs.flowId, options.entity))] as const;
      });
      // The table ends with every category's count per entity, as run reports count them; JSON stays the list of pairs.
      process.stdout.write((options.output === 'json' ? JSON.stringify(pairs, null, 2) : [renderPairs(pairs), summary].filter(Boolean).join('\n')) + '\n');
    });
}
