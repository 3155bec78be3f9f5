/**
 * The console's actions: form fields in, a SyncJob (or a schedule patch) out, built by the same
 * functions `kubectl ferry` uses (src/actions/sync-jobs.ts), created with the viewer's credentials so
 * the API server decides whether they may.
 */
import type { SyncFlow } from '../api/syncflow.js';
import type { Resolution, SyncJob } from '../api/syncjob.js';
import { buildResolve, buildRetransfer, buildSyncRequest, perFieldResolutions, resolutionFromFlags, type SyncFlags } from '../actions/sync-jobs.js';
import { ConfigError } from '../util/errors.js';

export type Form = URLSearchParams;

const VIA = { requestedVia: 'ferry-console' as const };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The report recipient: the signed-in user's e-mail as the sign-in proxy reports it, when it is one. */
export const requester = (email: string | undefined): { requestedBy?: string } => (email && EMAIL.test(email) ? { requestedBy: email } : {});

function required(form: Form, name: string): string {
  const value = form.get(name)?.trim();
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

/** Full, Incremental, `scope:NAME` or Record (with entity and key) from the flow card. */
export function syncFlags(form: Form): SyncFlags {
  const mode = required(form, 'mode');
  if (mode === 'Full') return { full: true };
  if (mode === 'Incremental') return { incremental: true };
  if (mode.startsWith('scope:')) return { scope: mode.slice('scope:'.length) };
  if (mode === 'Record') return { record: `${required(form, 'entity')}/${required(form, 'key')}` };
  throw new ConfigError(`unknown mode ${mode}`);
}

export function syncJobFromForm(namespace: string, flow: string, form: Form, email?: string): SyncJob {
  return buildSyncRequest({ namespace, flow, ...VIA }, { ...syncFlags(form), ...requester(email) });
}

/** The resolutions of one pair: per-field choices (`keep.FIELD=source|target`) or one whole-pair action. */
export function resolutionsFromForm(form: Form): Resolution[] {
  const pair = { entity: required(form, 'entity'), sourceKey: form.get('sourceKey') ?? undefined, targetKey: form.get('targetKey') ?? undefined };
  const action = required(form, 'action');
  if (action === 'PerField') {
    const keep = [...form.entries()].filter(([key]) => key.startsWith('keep.')).map(([key, side]) => `${key.slice('keep.'.length)}=${side}`);
    if (keep.length === 0) throw new ConfigError('choose a value for each field');
    return perFieldResolutions(pair, keep.join(','));
  }
  return [resolutionFromFlags({ ...pair, action })];
}

export function resolveJobFromForm(namespace: string, flow: string, form: Form, email?: string): SyncJob {
  return buildResolve({ namespace, flow, ...VIA, ...requester(email) }, resolutionsFromForm(form));
}

export function retransferJobFromForm(original: SyncJob, form: Form, email?: string): SyncJob {
  return buildRetransfer(original, form.getAll('target').filter(Boolean), { ...VIA, ...requester(email) });
}

/** "Process new sync" of an export flow: a snapshot export is a Full run, the others take what changed. */
export function newExportJob(namespace: string, flow: SyncFlow, email?: string): SyncJob {
  const exportMode = (flow.spec.target as { export?: { mode?: string } }).export?.mode;
  return buildSyncRequest({ namespace, flow: flow.metadata.name, ...VIA }, { ...(exportMode === 'Snapshot' ? { full: true } : { incremental: true }), ...requester(email) });
}
