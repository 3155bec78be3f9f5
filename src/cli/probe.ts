import type { Command } from 'commander';
import { TableClass } from '../util/on-demand.js';
import { loadValidManifests } from '../local/local-run.js';
import type { ProbeResult } from '../export/probe.js';
import { secretsFromManifests } from '../export/secrets.js';
import { ConfigError, EXIT_SYNC_FAILED } from '../util/errors.js';

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description(
      'connect to ExportTargets, log in and check the directory is writable (what the controller does for the Ready condition); for a SyncFlow with a files source, list its directory and open the newest file of each entity',
    )
    .requiredOption('-f, --file <path...>', 'manifest file or directory with ExportTargets, SyncFlows and their Secrets')
    .option('--target <name>', 'only this ExportTarget')
    .option('--flow <name>', 'only the files source of this SyncFlow')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (options) => {
      const loaded = loadValidManifests(options.file);
      const targets = options.flow && !options.target ? [] : loaded.targets.filter((t) => !options.target || t.metadata.name === options.target);
      const flows = options.target && !options.flow ? [] : loaded.flows.filter((f) => f.spec.source.files && (!options.flow || f.metadata.name === options.flow));
      if (options.target && targets.length === 0) throw new ConfigError(`ExportTarget "${options.target}" not found`);
      if (options.flow && flows.length === 0) throw new ConfigError(`SyncFlow "${options.flow}" with a files source not found`);
      if (targets.length + flows.length === 0) throw new ConfigError('no ExportTarget found in the manifests (nor a SyncFlow with a files source)');
      const secrets = secretsFromManifests(loaded.secrets);
      // The transports (ssh2, FTP) and the files reader load only for this command, not at every start of the CLI.
      const [{ probeExportTarget }, { probeFilesSource }] = await Promise.all([import('../export/probe.js'), import('../connectors/files/probe.js')]);
      const results: ((ProbeResult & { target: string }) | (ProbeResult & { flow: string }))[] = [];
      for (const target of targets) results.push({ target: target.metadata.name, ...(await probeExportTarget(target.spec, secrets, target.metadata.name)) });
      const files = { targets: Object.fromEntries(loaded.targets.map((t) => [t.metadata.name, t.spec])), secrets };
      for (const flow of flows) results.push({ flow: flow.metadata.name, ...(await probeFilesSource(flow.spec, files)) });
      if (options.output === 'json') {
        process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      } else {
        const Table = TableClass();
        const table = new Table({ head: ['target or flow', 'ready', 'reason', 'message'], style: { head: [], border: [] }, colWidths: [30, 7, 18, 80], wordWrap: true });
        for (const r of results) table.push(['target' in r ? r.target : `SyncFlow ${r.flow} (files)`, r.ready ? 'yes' : 'no', r.reason, r.message + (r.warning ? `\nwarning: ${r.warning}` : '')]);
        process.stdout.write(table.toString() + '\n');
      }
      if (results.some((r) => !r.ready)) process.exitCode = EXIT_SYNC_FAILED;
    });
}
