import type { Command } from 'commander';
import Table from 'cli-table3';
import { loadValidManifests } from '../local/local-run.js';
import { probeExportTarget } from '../export/probe.js';
import { secretsFromManifests } from '../export/secrets.js';
import { ConfigError, EXIT_SYNC_FAILED } from '../util/errors.js';

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('connect to ExportTargets, log in and check the directory is writable (what the controller does for the Ready condition)')
    .requiredOption('-f, --file <path...>', 'manifest file or directory with ExportTargets and their Secrets')
    .option('--target <name>', 'only this ExportTarget')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (options) => {
      const loaded = loadValidManifests(options.file);
      const targets = loaded.targets.filter((t) => !options.target || t.metadata.name === options.target);
      if (targets.length === 0) throw new ConfigError(options.target ? `ExportTarget "${options.target}" not found` : 'no ExportTarget found in the manifests');
      const secrets = secretsFromManifests(loaded.secrets);
      const results = [];
      for (const target of targets) results.push({ target: target.metadata.name, ...(await probeExportTarget(target.spec, secrets, target.metadata.name)) });
      if (options.output === 'json') {
        process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      } else {
        const table = new Table({ head: ['target', 'ready', 'reason', 'message'], style: { head: [], border: [] }, colWidths: [20, 7, 18, 80], wordWrap: true });
        for (const r of results) table.push([r.target, r.ready ? 'yes' : 'no', r.reason, r.message + (r.warning ? `\nwarning: ${r.warning}` : '')]);
        process.stdout.write(table.toString() + '\n');
      }
      if (results.some((r) => !r.ready)) process.exitCode = EXIT_SYNC_FAILED;
    });
}
