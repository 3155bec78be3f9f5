import { Command, Option } from 'commander';
import { API_VERSION } from '../api/common.js';
import { checkManifestSchema } from '../api/schema-check.js';
import type { Resolution } from '../api/syncjob.js';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { runSync } from '../connectors/run.js';
import { ConfigError, EXIT_OK } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { addFlowOptions, withFlowDatabases } from './pairs.js';
import { readYamlFile } from './yaml-file.js';

/** Reads resolutions from YAML/JSON: a list, `{ resolutions: [...] }`, or a SyncJob with `spec.resolutions`. */
export function readResolutionsFile(path: string): Resolution[] {
  const document = readYamlFile(path);
  const record = document as { resolutions?: unknown; spec?: { resolutions?: unknown } } | null;
  const list = Array.isArray(document) ? document : (record?.spec?.resolutions ?? record?.resolutions);
  // Checked exactly as the API server checks a SyncJob's spec.resolutions.
  const job = { apiVersion: API_VERSION, kind: 'SyncJob', metadata: { name: 'resolve' }, spec: { flowRef: { name: 'resolve' }, mode: 'Resolve', resolutions: list } };
  const errors = Array.isArray(list) ? checkManifestSchema(job) : [{ path: 'resolutions', message: 'missing' }];
  if (errors.length > 0) {
    throw new ConfigError(`${path}: not a list of resolutions (${errors.map((e) => `${e.path.replace(/^spec\./, '')}: ${e.message}`).join('; ')})`);
  }
  return list as Resolution[];
}

interface FlagOptions {
  entity?: string;
  key?: string;
  targetKey?: string;
  keep?: 'source' | 'target';
  field?: string[];
  deactivate?: boolean;
  reactivate?: boolean;
  unlink?: boolean;
  link?: string;
}

/** One resolution from command-line flags. */
export function resolutionFromFlags(o: FlagOptions): Resolution {
  if (!o.entity) throw new ConfigError('--entity is required (or give --resolutions FILE)');
  const chosen = [o.keep ? '--keep' : '', o.deactivate ? '--deactivate' : '', o.reactivate ? '--reactivate' : '', o.unlink ? '--unlink' : '', o.link ? '--link' : ''].filter(Boolean);
  if (chosen.length !== 1) throw new ConfigError(`choose exactly one of --keep, --deactivate, --reactivate, --unlink, --link (got ${chosen.join(', ') || 'none'})`);
  if (o.field?.length && !o.keep) throw new ConfigError('--field is only used with --keep');
  if (o.link) {
    const eq = o.link.indexOf('=');
    if (eq <= 0 || eq === o.link.length - 1) throw new ConfigError(`--link takes SOURCE_KEY=TARGET_KEY, got "${o.link}"`);
    return { entity: o.entity, sourceKey: o.link.slice(0, eq), targetKey: o.link.slice(eq + 1), action: 'Link' };
  }
  if (!o.key && !o.targetKey) throw new ConfigError('--key (source key) or --target-key is required');
  const keys = { ...(o.key ? { sourceKey: o.key } : {}), ...(o.targetKey ? { targetKey: o.targetKey } : {}) };
  if (o.keep) return { entity: o.entity, ...keys, action: o.keep === 'source' ? 'KeepSource' : 'KeepTarget', ...(o.field?.length ? { fields: o.field } : {}) };
  return { entity: o.entity, ...keys, action: o.deactivate ? 'Deactivate' : o.reactivate ? 'Reactivate' : 'Unlink' };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerResolveCommand(program: Command): void {
  addFlowOptions(
    program
      .command('resolve')
      .description(
        'apply conflict resolutions (keep source/target values, (de)activate, link, unlink) to both systems: a Resolve run',
      ),
  )
    .option('--resolutions <file>', 'YAML/JSON file: a list of resolutions, or a SyncJob with spec.resolutions')
    .option('--entity <name>', 'entity of the pair')
    .option('--key <key>', 'source key of the pair (composite keys: parts joined by commas)')
    .option('--target-key <key>', 'target key of the pair')
    .addOption(new Option('--keep <side>', 'keep this side’s values and write them to the other system').choices(['source', 'target']))
    .option('--field <column>', 'with --keep: only this field (repeatable; either side’s column name)', collect)
    .option('--deactivate', 'stop syncing the pair')
    .option('--reactivate', 'sync the pair again')
    .option('--unlink', 'forget the pair (both records stay)')
    .option('--link <source=target>', 'link two existing records by hand, e.g. --link 42=5007')
    .option('--dry-run', 'show what would happen, write nothing (new rows still draw identity/sequence/AUTO_INCREMENT values in the target, so later ids skip them)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['table', 'json', 'markdown']).default('table'))
    .action(async (options) => {
      const resolutions = options.resolutions ? readResolutionsFile(options.resolutions) : [resolutionFromFlags(options)];
      if (options.resolutions && (options.entity || options.keep || options.link)) {
        throw new ConfigError('give either --resolutions FILE or flags for one resolution, not both');
      }
      const report = await withFlowDatabases(options, async (dbs) => {
        return await runSync({
          flowId: dbs.flowId,
          spec: dbs.flow.spec,
          mode: 'Resolve',
          resolutions,
          dryRun: options.dryRun,
          sourceUrl: dbs.sourceUrl,
          targetUrl: dbs.targetUrl,
          stateUrl: dbs.stateUrl,
          files: dbs.files,
          logger: createLogger(),
        });
      });
      process.stdout.write(renderReport(report, options.output as ReportFormat) + '\n');
      process.exitCode = report.rejectedSamples.length > 0 ? 1 : EXIT_OK;
    });
}
