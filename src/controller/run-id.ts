import { boundedName } from './labels.js';

/**
 * Runs of a SyncJob have ids `<syncjob>.<uid prefix>.<attempt time>`: the controller finds them
 * by prefix, each Job attempt gets its own row, and a re-created SyncJob of the same name does not
 * pick up its predecessor's runs.
 */
export function runIdPrefix(syncJob: { metadata: { name: string; uid?: string } }): string {
  return `${boundedName(syncJob.metadata.name, 80)}.${(syncJob.metadata.uid ?? 'nouid').slice(0, 8)}.`;
}

export function newRunId(syncJob: { metadata: { name: string; uid?: string } }, now = Date.now()): string {
  return `${runIdPrefix(syncJob)}${now.toString(36)}`;
}
