import type { Kube, KubeObject } from './kube.js';

/**
 * Where the controller watches the namespaces' credentials Secrets: only the one name, by a field
 * selector. The API server authorizes a list or watch with `metadata.name=NAME` as a request for that
 * resource name, so RBAC can allow exactly this (verbs list and watch with resourceNames) and no other
 * Secret is readable. The watch's path carries the selector (the informer adds only a label selector).
 */
export function credentialsSecretsSource(kube: Kube, namespace: string | undefined, secretName: string) {
  const fieldSelector = `metadata.name=${secretName}`;
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return {
    path: `/api/v1${ns}/secrets?fieldSelector=${encodeURIComponent(fieldSelector)}`,
    list: async () =>
      (namespace
        ? await kube.core.listNamespacedSecret({ namespace, fieldSelector })
        : await kube.core.listSecretForAllNamespaces({ fieldSelector })) as unknown as { items: KubeObject[]; metadata?: { resourceVersion?: string } },
  };
}
