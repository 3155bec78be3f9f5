import { createHash } from 'node:crypto';

export const LABEL_FLOW = 'ferry.dev/flow';
export const LABEL_SCHEDULE = 'ferry.dev/schedule';
export const LABEL_SYNCJOB = 'ferry.dev/syncjob';
export const LABEL_MODE = 'ferry.dev/mode';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'ferry';
export const ANNOTATION_SYNC_REQUESTED = 'ferry.dev/sync-requested';
export const ANNOTATION_TRIGGER = 'ferry.dev/trigger';

/** Fits a name into `max` characters, keeping it unique with a hash suffix when it has to be cut. */
export function boundedName(name: string, max = 63): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9).replace(/[-.]+$/, '')}-${hash}`;
}

/** Label values are at most 63 characters of [A-Za-z0-9._-]. */
export function labelValue(value: string): string {
  return boundedName(value.replace(/[^A-Za-z0-9._-]/g, '-'), 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}
