import { Cron } from 'croner';

/** Why a time zone is not usable, or undefined. Accepts IANA names and their aliases, with exact case. */
export function timeZoneProblem(timeZone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return `unknown time zone "${timeZone}"`;
  }
  // Intl is case-insensitive but Go's time.LoadLocation (kubectl, CronJob) is not.
  if (resolved !== timeZone && resolved.toLowerCase() === timeZone.toLowerCase()) {
    return `time zone "${timeZone}" must be written "${resolved}"`;
  }
  return undefined;
}

/** Why a cron expression is not usable, or undefined. */
export function cronProblem(expression: string, timeZone?: string): string | undefined {
  try {
    const cron = new Cron(expression, { paused: true, ...(timeZone ? { timezone: timeZone } : {}) });
    if (cron.nextRun() === null) return `cron "${expression}" never fires`;
    return undefined;
  } catch (error) {
    return `invalid cron "${expression}": ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
}
