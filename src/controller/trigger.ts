import { createHash } from 'node:crypto';
import type { SyncJobSpec } from '../api/syncjob.js';

export type TriggerRequest = Pick<SyncJobSpec, 'mode' | 'scope' | 'record'> & { token: string };

const TRIGGER_MODES = ['Full', 'Incremental', 'Scope', 'Record'] as const;

/**
 * Parses `ferry.dev/sync-requested: "<mode>[:<scope or entity/key>]@<token>"`, e.g. `Full@2026-01-05T10:00:00Z`,
 * `Scope:events@1`, `Record:people/42@abc`. The token makes each request distinct (Flux's requestedAt).
 */
export function parseTrigger(value: string): TriggerRequest | { error: string } {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return { error: `expected "<mode>[:<scope or entity/key>]@<token>", got "${value}"` };
  const token = value.slice(at + 1);
  const request = value.slice(0, at);
  const colon = request.indexOf(':');
  const mode = colon < 0 ? request : request.slice(0, colon);
  const argument = colon < 0 ? undefined : request.slice(colon + 1);
  if (!(TRIGGER_MODES as readonly string[]).includes(mode)) return { error: `mode "${mode}" cannot be requested by annotation (use ${TRIGGER_MODES.join(', ')})` };
  if (mode === 'Scope') {
    if (!argument) return { error: 'mode Scope needs a scope: "Scope:<scope>@<token>"' };
    return { mode, scope: argument, token };
  }
  if (mode === 'Record') {
    const slash = argument?.indexOf('/') ?? -1;
    if (!argument || slash <= 0 || slash === argument.length - 1) return { error: 'mode Record needs a record: "Record:<entity>/<key>@<token>"' };
    return { mode, record: { entity: argument.slice(0, slash), key: argument.slice(slash + 1) }, token };
  }
  if (argument) return { error: `mode ${mode} takes no argument` };
  return { mode: mode as 'Full' | 'Incremental', token };
}

/** One SyncJob per request value: a repeated reconcile of the same token hits AlreadyExists. */
export function triggeredJobName(flow: string, value: string): string {
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 10);
  return `${flow.slice(0, 48).replace(/[-.]+$/, '')}-req-${hash}`;
}
