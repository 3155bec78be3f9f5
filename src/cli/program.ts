import { Command } from 'commander';
import { registerDemoCommand } from './demo.js';
import { registerConsoleCommand } from './console.js';
import { registerControllerCommand } from './controller.js';
import { registerDataApiCommand } from './data-api.js';
import { registerJobCommand } from './job-command.js';
import { registerDownloadCommand } from './download.js';
import { registerExportsCommand } from './exports.js';
import { registerFilesCommand } from './files.js';
import { registerProbeCommand } from './probe.js';
import { registerInstallTriggersCommand } from './install-triggers.js';
import { registerPairsCommand } from './pairs.js';
import { registerResolveCommand } from './resolve.js';
import { registerRunCommand } from './run.js';
import { registerValidateCommand } from './validate.js';
import { ferryVersion } from './version.js';

/** The `ferry` command with all its subcommands, not yet parsed. */
export function buildProgram(): Command {
  const program = new Command()
    .name('ferry')
    .description('Ferry keeps business systems in sync: full, incremental, scoped and record syncs, and file exports.')
    .version(ferryVersion(), '--version', 'print the version')
    .exitOverride()
    .showHelpAfterError()
    // A subcommand's options may share a name with its parent's (`demo --people`, `demo generate --people`):
    // each command reads its own options only before its subcommand.
    .enablePositionalOptions();

  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`ferry ${ferryVersion()}\n`);
    });

  registerRunCommand(program);
  registerPairsCommand(program);
  registerResolveCommand(program);
  registerInstallTriggersCommand(program);
  registerValidateCommand(program);
  registerDemoCommand(program);
  registerConsoleCommand(program);
  registerJobCommand(program);
  registerControllerCommand(program);
  registerDataApiCommand(program);
  registerExportsCommand(program);
  registerFilesCommand(program);
  registerDownloadCommand(program);
  registerProbeCommand(program);
  return program;
}
