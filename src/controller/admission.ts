import type { ConcurrencyPolicy } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';

export type AdmissionDecision =
  | { action: 'admit' }
  | { action: 'reject'; message: string }
  | { action: 'queue'; message: string }
  | { action: 'replace'; victims: SyncJob[] };

const ACTIVE = new Set(['Scheduled', 'Running']);

export function isActive(job: SyncJob): boolean {
  return ACTIVE.has(job.status?.phase ?? '');
}

export function isFinished(job: SyncJob): boolean {
  return ['Succeeded', 'Failed', 'Rejected'].includes(job.status?.phase ?? '');
}

function created(job: SyncJob): number {
  return job.metadata.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : 0;
}

/** Oldest first; the name breaks ties of the same second. */
export function byAge(a: SyncJob, b: SyncJob): number {
  return created(a) - created(b) || a.metadata.name.localeCompare(b.metadata.name);
}

/**
 * One sync at a time per flow. `others` are the flow's other SyncJobs. Forbid rejects while one is
 * active; Queue waits behind the active one and behind older queued ones (oldest first); Replace
 * cancels the active ones.
 */
export function decideAdmission(job: SyncJob, others: SyncJob[], policy: ConcurrencyPolicy): AdmissionDecision {
  const active = others.filter(isActive).sort(byAge);
  if (policy === 'Replace') return active.length > 0 ? { action: 'replace', victims: active } : { action: 'admit' };
  if (policy === 'Queue') {
    const olderQueued = others.filter((o) => o.status?.phase === 'Queued' && byAge(o, job) < 0);
    if (active.length > 0) return { action: 'queue', message: `waiting for ${active.map((a) => a.metadata.name).join(', ')} to finish` };
    if (olderQueued.length > 0) return { action: 'queue', message: `waiting behind ${olderQueued.sort(byAge)[0].metadata.name}` };
    return { action: 'admit' };
  }
  if (active.length > 0) {
    return { action: 'reject', message: `SyncJob ${active[0].metadata.name} is already running for this flow (concurrencyPolicy Forbid)` };
  }
  return { action: 'admit' };
}
