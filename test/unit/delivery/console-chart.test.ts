/** The chart's console (console.enabled): a Deployment and Service with no Kubernetes rights of its own. */
import { describe, expect, it } from 'vitest';
import { renderChart, type KubeObject } from './helm.js';

const consoleObjects = (objects: KubeObject[]) => objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'console');

describe('chart value console.enabled', () => {
  it('is off by default', () => {
    expect(consoleObjects(renderChart())).toEqual([]);
  });

  it('runs `ferry console` with the API server CA only: no token mounted, no role bound to it', () => {
    const objects = renderChart(['--set', 'console.enabled=true', '--set', 'console.signInUrl=/oauth2/start', '--set', 'console.defaultNamespace=crm']);
    expect(consoleObjects(objects).map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/ferry-console', 'Service/ferry-console', 'ServiceAccount/ferry-console']);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ferry-console')!;
    const pod = (deployment.spec as { template: { spec: Record<string, unknown> & { containers: { args: string[]; volumeMounts: { name: string }[] }[]; volumes: { name: string; configMap?: { name: string } }[] } } }).template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].args).toEqual(['console', '--port=8080', '--ca-file=/var/run/ferry/kube-ca/ca.crt', '--namespace=crm', '--sign-in-url=/oauth2/start']);
    expect(pod.volumes.find((v) => v.name === 'kube-ca')?.configMap?.name).toBe('kube-root-ca.crt');
    const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'ferry-console')!;
    expect(account.automountServiceAccountToken).toBe(false);
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
    for (const binding of bindings) {
      expect((binding.subjects as { name: string }[]).map((s) => s.name)).not.toContain('ferry-console');
    }
  });
});
