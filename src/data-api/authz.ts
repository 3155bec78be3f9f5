import * as k8s from '@kubernetes/client-node';
import type { UserInfo } from './authn.js';
import { TtlCache } from './ttl-cache.js';

export type Attributes =
  | { kind: 'resource'; verb: string; group: string; version: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { kind: 'nonResource'; verb: string; path: string };

export interface Decision {
  allowed: boolean;
  reason?: string;
}

export type Authorizer = (user: UserInfo, attributes: Attributes) => Promise<Decision>;

/** Pure: the SubjectAccessReview the API server is asked. */
export function subjectAccessReview(user: UserInfo, attributes: Attributes): k8s.V1SubjectAccessReview {
  const { kind, ...rest } = attributes;
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: user.name,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      extra: user.extra,
      ...(kind === 'resource' ? { resourceAttributes: rest } : { nonResourceAttributes: rest as { verb: string; path: string } }),
    },
  };
}

/** Delegated authorization: one SubjectAccessReview per distinct question, cached briefly like kube's webhook authorizer. */
export function sarAuthorizer(config: k8s.KubeConfig, ttlMs = 10_000): Authorizer {
  const api = config.makeApiClient(k8s.AuthorizationV1Api);
  const cache = new TtlCache<Decision>(ttlMs, 10_000);
  return async (user, attributes) => {
    const body = subjectAccessReview(user, attributes);
    const key = JSON.stringify(body.spec);
    const cached = cache.get(key);
    if (cached) return cached;
    const review = await api.createSubjectAccessReview({ body });
    const decision: Decision = { allowed: Boolean(review.status?.allowed) && !review.status?.denied, reason: review.status?.reason };
    cache.set(key, decision);
    return decision;
  };
}
