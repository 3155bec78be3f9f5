import type { V1Secret } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, MANAGED_BY } from './labels.js';

/** Marks the Secret holding a namespace's state-database credential (the controller watches these only). */
export const LABEL_CREDENTIALS = 'ferry.dev/credentials';
export const CREDENTIALS_KIND = 'state-db';
/** Set (to any new value, e.g. a timestamp) by `kubectl ferry rotate-credentials`: the controller issues a new password. */
export const ANNOTATION_ROTATE_REQUESTED = 'ferry.dev/rotate-requested';
/** The request the current password answers, so one request rotates once. */
export const ANNOTATION_ROTATED_FOR = 'ferry.dev/rotated-for';
export const ANNOTATION_ROTATED_AT = 'ferry.dev/rotated-at';
export const ANNOTATION_ROLE = 'ferry.dev/role';

export const CREDENTIALS_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_CREDENTIALS}=${CREDENTIALS_KIND}`;

export interface CredentialsSecretInput {
  namespace: string;
  secret: { name: string; key: string };
  url: string;
  role: string;
  rotatedAt: Date;
  /** The rotation request this password answers, if any. */
  rotatedFor?: string;
}

/** The Secret a namespace's sync Jobs read the state database URL from; its user is the namespace's own role. Pure. */
export function buildCredentialsSecret(input: CredentialsSecretInput): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: input.secret.name,
      namespace: input.namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_CREDENTIALS]: CREDENTIALS_KIND },
      annotations: {
        [ANNOTATION_ROLE]: input.role,
        [ANNOTATION_ROTATED_AT]: input.rotatedAt.toISOString(),
        ...(input.rotatedFor ? { [ANNOTATION_ROTATED_FOR]: input.rotatedFor } : {}),
      },
    },
    type: 'Opaque',
    stringData: { [input.secret.key]: input.url },
  };
}

export type CredentialsAction = 'keep' | 'issue' | 'refuse';

/**
 * What the controller does about a namespace's credentials Secret: issue a new password when it is
 * missing or a rotation was requested, refuse to touch a Secret of that name it does not manage.
 */
export function credentialsAction(secret: Pick<V1Secret, 'metadata'> | undefined, key: string, data?: Record<string, string>): CredentialsAction {
  if (!secret) return 'issue';
  const labels = secret.metadata?.labels ?? {};
  if (labels[LABEL_MANAGED_BY] !== MANAGED_BY || labels[LABEL_CREDENTIALS] !== CREDENTIALS_KIND) return 'refuse';
  const annotations = secret.metadata?.annotations ?? {};
  const requested = annotations[ANNOTATION_ROTATE_REQUESTED];
  if (requested && requested !== annotations[ANNOTATION_ROTATED_FOR]) return 'issue';
  if (data && !data[key]) return 'issue';
  return 'keep';
}
