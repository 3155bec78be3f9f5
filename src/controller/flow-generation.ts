import type { SyncJobStatus } from '../api/syncjob.js';

/**
 * What a finished SyncJob's message adds about the SyncFlow generations: nothing when it ran the
 * spec it was admitted with and the flow is unchanged; otherwise which spec ran and which is live.
 */
export function generationNote(generations: SyncJobStatus['flowGeneration'], liveGeneration: number | undefined): string {
  if (!generations) return '';
  const { admitted, ran } = generations;
  if (ran !== undefined && ran !== admitted) return `; ran SyncFlow generation ${ran}, not generation ${admitted} it was admitted with`;
  if (liveGeneration !== undefined && liveGeneration !== admitted && ran === admitted) {
    return `; ran the admitted SyncFlow spec (generation ${admitted}); the flow is now at generation ${liveGeneration}`;
  }
  return '';
}
