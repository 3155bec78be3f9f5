import { Command, Option } from 'commander';
import { renderReport, type ReportFormat } from '../report/formats.js';
import type { SyncMode } from '../api/common.js';
import { runLocally } from '../local/local-run.js';
import { createLogger } from '../util/logger.js';
import { parseInterval, runWatch } from './watch.js';
import { stateDbUrlOf } from '../util/connection-url.js';
import { ConfigError, EXIT_OK } from '../util/errors.js';
import { reimportProblem } from './reimport-option.js';
import { stateDbFileOption, stateDbOption } from './state-db-options.js';

const MODES = ['Full', 'Incremental', 'Scope', 'Record', 'Resolve', 'Retransfer'];
const FORMATS = ['table', 'json', 'markdown', 'html'];

function parseLanes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new ConfigError(`--parallel takes a whole number from 1 to 16, got "${value}"`);
  return n;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a sync locally from manifests (SyncFlow, SyncJob and Secret YAML), with the same engine as the Kubernetes Job')
    .requiredOption('-f, --file <path...>', 'manifest file or directory (repeatable)')
    .option('--flow <name>', 'SyncFlow to run (default: the SyncJobs in the manifests, or the only SyncFlow)')
    .addOption(new Option('--mode <mode>', 'sync mode when no SyncJob is given').choices(MODES))
    .option('--record <entity/key>', 'mode Record: the record to sync with its required and related rows, e.g. people/42')
    .addOption(new Option('--record-side <side>', 'mode Record on a TwoWay flow: the side the key belongs to (default Source)').choices(['Source', 'Target']))
    .option('--scope <name>', "mode Scope: the flow's scope to sync, e.g. events")
    .addOption(new Option('--scope-mode <mode>', 'mode Scope: Full or Incremental within the scope (default Incremental)').choices(['Full', 'Incremental']))
    .option('--dry-run', 'compute and report everything, write nothing to the target or the watermarks (new rows still draw identity/sequence/AUTO_INCREMENT values in the target, so later ids skip them)')
    .option('--requested-by <email>', 'who asked for this run (gets the report)')
    .option('--reimport <file...>', 'files source: import these files again (by name) although they were imported')
    .addOption(stateDbOption('embedded PostgreSQL under --data-dir'))
    .addOption(stateDbFileOption())
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL (default: $FERRY_DATA_DIR, ~/.ferry/pgdata, or /tmp/ferry-local/pgdata as root)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(FORMATS).default('table'))
    .addOption(new Option('--parallel <n>', 'entities synced side by side when their dependencies allow').argParser(parseLanes).default(2))
    .option('--watch', 'run Incremental continuously: on change notifications (ferry install-triggers) or every --interval')
    .addOption(new Option('--interval <duration>', 'with --watch: polling interval, e.g. 30s or 5m').argParser(parseInterval).default(30_000, '30s'))
    .action(async (options) => {
      const problem = reimportProblem(options);
      if (problem) throw new ConfigError(problem);
      const logger = createLogger();
      if (options.watch) {
        if (options.mode && options.mode !== 'Incremental') throw new ConfigError(`--watch runs Incremental syncs, not ${options.mode}`);
        await runWatch({
          files: options.file,
          flow: options.flow,
          dryRun: options.dryRun,
          stateDb: stateDbUrlOf(options),
          dataDir: options.dataDir,
          parallelEntities: options.parallel,
          intervalMs: options.interval,
          output: options.output as ReportFormat,
          logger,
        });
        return;
      }
      const reports = await runLocally({
        files: options.file,
        flow: options.flow,
        mode: options.mode as SyncMode | undefined,
        dryRun: options.dryRun,
        requestedBy: options.requestedBy,
        stateDb: stateDbUrlOf(options),
        dataDir: options.dataDir,
        parallelEntities: options.parallel,
        record: options.record,
        recordSide: options.recordSide,
        scope: options.scope,
        scopeMode: options.scopeMode,
        reimport: options.reimport,
        logger,
      });
      for (const report of reports) process.stdout.write(renderReport(report, options.output as ReportFormat) + '\n');
      process.exitCode = EXIT_OK;
    });
}
