import type { SyncJobStatus } from '../api/syncjob.js';

/**
 * Which SyncFlow spec a run executed, in words, when that is worth saying: undefined when it ran the
 * spec it was admitted with and the flow is unchanged; otherwise which spec ran and which is live.
 * The run report (from the pod) and the SyncJob's message and Event (from the controller) both say it.
 */
export function generationSentence(generations: SyncJobStatus['flowGeneration'], liveGeneration: number | undefined): string | undefined {
  if (!generations) return undefined;
  const { admitted, ran } = generations;
  if (ran !== undefined && ran !== admitted) return `ran SyncFlow generation ${ran}, not generation ${admitted} it was admitted with`;
  if (liveGeneration !== undefined && liveGeneration !== admitted && ran === admitted) {
    return `ran the admitted SyncFlow spec (generation ${admitted}); the flow is now at generation ${liveGeneration}`;
  }
  return undefined;
}

/** What a finished SyncJob's message adds about the SyncFlow generations (`; ...`), or nothing. */
export function generationNote(generations: SyncJobStatus['flowGeneration'], liveGeneration: number | undefined): string {
  const sentence = generationSentence(generations, liveGeneration);
  return sentence ? `; ${sentence}` : '';
}
