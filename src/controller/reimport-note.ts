import type { SyncJobSpec } from '../api/syncjob.js';

const NAMES_SHOWN = 5;

/**
 * Which files a SyncJob imported again on request (spec.reimport), in words, for its message, Event
 * and report; undefined when it named none. A run that does not find a named file fails, so a run
 * that succeeded re-imported each. At most a few names: spec.reimport holds up to 100.
 */
export function reimportSentence(spec: Pick<SyncJobSpec, 'reimport' | 'dryRun'>): string | undefined {
  const names = spec.reimport ?? [];
  if (names.length === 0) return undefined;
  const more = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : '';
  const listed = `${names.slice(0, NAMES_SHOWN).join(', ')}${more}`;
  return spec.dryRun ? `dry run of a re-import of ${listed} (nothing recorded)` : `re-imported on request: ${listed}`;
}
