import type { Command } from 'commander';
import { RunFailedError } from '../engine/run.js';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { EXIT_BAD_INPUT, EXIT_SYNC_FAILED, FerryError, redactSecrets } from '../util/errors.js';

/** What a failed command prints. */
export interface FailureOutput {
  stdout?: string;
  stderr: string;
  exitCode: number;
}

const FORMATS = ['table', 'json', 'markdown', 'html'];

/** The command's `-o/--output` format, when that option picks a format (`download -o FILE` names a file). */
export function outputFormatOf(command: Command | undefined): string | undefined {
  const option = command?.options.find((o) => o.long === '--output');
  const value: unknown = option ? command!.opts().output : undefined;
  if (typeof value !== 'string') return undefined;
  return (option!.argChoices ?? FORMATS).includes(value) && FORMATS.includes(value) ? value : undefined;
}

/**
 * Every command (of `ferry` and of `kubectl ferry`, whose lines start with `error:`) fails the same way: the text line on stderr and, in the format asked for on stdout,
 * the failed run's report (so a script reads a failure like a success), or for `-o json` an
 * `{"error": {...}}` object when there is no report.
 */
export function failureOutput(error: unknown, format: string | undefined, prefix = 'ferry:'): FailureOutput {
  const known = error instanceof FerryError;
  const message = redactSecrets(known ? error.message : error instanceof Error ? error.message : String(error));
  const exitCode = known ? error.exitCode : EXIT_SYNC_FAILED;
  const stderr = known ? `${prefix} ${message}\n` : `${prefix} unexpected error: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`;
  if (error instanceof RunFailedError && format) return { stdout: renderReport(error.report, format as ReportFormat) + '\n', stderr, exitCode };
  if (format === 'json') {
    const kind = exitCode === EXIT_BAD_INPUT ? 'BadInput' : known ? 'Failed' : 'Unexpected';
    return { stdout: JSON.stringify({ error: { kind, message, exitCode } }, null, 2) + '\n', stderr, exitCode };
  }
  return { stderr, exitCode };
}
