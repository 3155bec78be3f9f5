import type { TransferSummary } from '../api/syncjob.js';
import type { TransferOutcome } from './deliver.js';

const MESSAGE_LIMIT = 1024;

/**
 * The bounded per-destination summary for SyncJob status (`status.summary.transfers`): one entry per
 * ExportTarget, Succeeded only when every file reached it, with the bytes sent and the first failure.
 */
export function summariseTransfers(outcomes: TransferOutcome[]): TransferSummary[] {
  const targets = [...new Set(outcomes.map((o) => o.target))];
  return targets.map((target) => {
    const own = outcomes.filter((o) => o.target === target);
    const failed = own.find((o) => o.status !== 'transferred');
    const bytes = own.reduce((n, o) => n + (o.status === 'transferred' ? (o.bytes ?? 0) : 0), 0);
    const message = failed
      ? `${failed.file}: ${failed.reason ?? 'failed'}: ${failed.message ?? ''}`
      : `${own.length} file${own.length === 1 ? '' : 's'} transferred`;
    return { target, state: failed ? 'Failed' : 'Succeeded', bytes, message: message.slice(0, MESSAGE_LIMIT) };
  });
}
