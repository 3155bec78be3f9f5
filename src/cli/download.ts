import type { Command } from 'commander';
import { downloadRun } from '../export/history.js';
import { withLocalState } from './exports.js';
import { stateDbFileOption, stateDbOption } from './state-db-options.js';

export function registerDownloadCommand(program: Command): void {
  program
    .command('download')
    .description('write the archived export file of a run (checked against its SHA-256); a directory when the run made several files')
    .argument('<run>', 'run id (as listed by `ferry exports`)')
    .requiredOption('-o, --output <path>', 'file to write, or directory for a run with several files')
    .option('--name <file>', 'only the archived file with this name')
    .addOption(stateDbOption('the embedded PostgreSQL of `ferry run`'))
    .addOption(stateDbFileOption())
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL')
    .action(async (run: string, options) => {
      await withLocalState(options, async (store) => {
        const written = await downloadRun(store.pool, run, options.output, options.name);
        for (const path of written) process.stdout.write(`wrote ${path}\n`);
      });
    });
}
