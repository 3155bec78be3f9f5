import { redactSecrets, redactUrl } from './redact.js';

export { redactSecrets, redactUrl };

/** Exit codes of the `ferry` CLI. */
export const EXIT_OK = 0;
export const EXIT_SYNC_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** An error whose message is meant for the user as-is: no stack trace needed. */
export class FerryError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_SYNC_FAILED,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FerryError';
  }
}

/** Bad configuration, manifests or arguments. */
export class ConfigError extends FerryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_BAD_INPUT, options);
    this.name = 'ConfigError';
  }
}

/** Another run of the same flow holds the lock. */
export class FlowBusyError extends FerryError {
  constructor(
    readonly flow: string,
    readonly activeRunId: string | undefined,
    readonly since: Date | undefined,
  ) {
    super(
      `flow ${flow} is already syncing` +
        (activeRunId ? ` (run ${activeRunId} since ${since?.toISOString() ?? 'unknown'})` : ''),
      EXIT_SYNC_FAILED,
    );
    this.name = 'FlowBusyError';
  }
}

/** Turns a connection failure into one sentence naming what could not be reached, with no secret of `url` in it. */
export function describeConnectionError(what: string, url: string, error: unknown): FerryError {
  const detail = error instanceof Error ? error.message : String(error);
  return new FerryError(redactSecrets(`cannot connect to ${what} at ${redactUrl(url)}: ${detail}`.replace(/\s*\n\s*/g, ' '), [url]), EXIT_SYNC_FAILED, { cause: error });
}
