import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartCrdTemplate, chartCrdDir, crdSourceDir, renderChartCrds } from '../../../scripts/gen-chart-crds.js';
import { chartDir, find, helm, ofKind, renderChart, repoRoot, type KubeObject } from './helm.js';
import { CONTROLLER_ALLOWED, DATA_EDIT_ALLOWED, DATA_VIEW_ALLOWED, JOB_ALLOWED, type Access } from './rbac-expectations.js';

const ciValues = readdirSync(join(chartDir, 'ci'))
  .filter((name) => name.endsWith('.yaml'))
  .sort();

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** "syncflows.ferry.dev/status" -> "ferry.dev syncflows/status create" triples, as RBAC rules spell them. */
function accessTriple({ verb, resource }: Access): string {
  const [nameAndGroup, subresource] = resource.split('/');
  const dot = nameAndGroup.indexOf('.');
  const name = dot < 0 ? nameAndGroup : nameAndGroup.slice(0, dot);
  const group = dot < 0 ? '' : nameAndGroup.slice(dot + 1);
  return `${group} ${subresource ? `${name}/${subresource}` : name} ${verb}`;
}

function ruleTriples(rules: PolicyRule[]): string[] {
  return rules
    .filter((rule) => !rule.resourceNames)
    .flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group} ${resource} ${verb}`))))
    .sort();
}

const rulesOf = (object: KubeObject) => object.rules as PolicyRule[];

type Container = { name: string; image: string; args?: string[]; env: { name: string; value?: string; valueFrom?: unknown }[]; securityContext: Record<string, unknown>; [key: string]: unknown };
type PodSpec = { containers: Container[]; securityContext: Record<string, unknown>; automountServiceAccountToken?: boolean; serviceAccountName?: string; [key: string]: unknown };
const podSpec = (workload: KubeObject) => (workload.spec as { template: { spec: PodSpec } }).template.spec;
const controllerDeployment = (objects: KubeObject[]) => find(objects, 'Deployment', 'ferry-controller');
const env = (container: Container, name: string) => container.env.find((e) => e.name === name);

describe('helm lint', () => {
  it('passes with the default values', () => {
    const result = helm(['lint', chartDir, '--strict']);
    expect(result.stdout + result.stderr).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it.each(ciValues)('passes with ci/%s', (file) => {
    const result = helm(['lint', chartDir, '--strict', '-f', join(chartDir, 'ci', file)]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});

describe('helm template with the default values', () => {
  const objects = renderChart();

  it('renders the controller, its RBAC, the CRDs and the evaluation database', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      'APIService//v1alpha1.data.ferry.dev',
      'ClusterRole//ferry-controller',
      'ClusterRole//ferry-data-api',
      'ClusterRole//ferry-edit',
      'ClusterRole//ferry-view',
      'ClusterRoleBinding//ferry-controller',
      'ClusterRoleBinding//ferry-data-api',
      'ClusterRoleBinding//ferry-data-api:system:auth-delegator',
      'CustomResourceDefinition//exporttargets.ferry.dev',
      'CustomResourceDefinition//syncflows.ferry.dev',
      'CustomResourceDefinition//syncjobs.ferry.dev',
      'Deployment/ferry-system/ferry-controller',
      'Deployment/ferry-system/ferry-data-api',
      'Role/ferry-system/ferry-job',
      'Role/ferry-system/ferry-leader-election',
      'RoleBinding/ferry-system/ferry-job',
      'RoleBinding/ferry-system/ferry-leader-election',
      'RoleBinding/kube-system/ferry-data-api:extension-apiserver-authentication-reader',
      'Secret/ferry-system/ferry-data-api-tls',
      'Secret/ferry-system/ferry-postgresql',
      'Service/ferry-system/ferry-data-api',
      'Service/ferry-system/ferry-metrics',
      'Service/ferry-system/ferry-postgresql',
      'ServiceAccount/ferry-system/ferry-controller',
      'ServiceAccount/ferry-system/ferry-data-api',
      'ServiceAccount/ferry-system/ferry-job',
      'StatefulSet/ferry-system/ferry-postgresql',
    ]);
  });

  it('runs one controller replica with a restricted security context', () => {
    const deployment = controllerDeployment(objects);
    expect((deployment.spec as { replicas: number }).replicas).toBe(1);
    const pod = podSpec(deployment);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const [container] = pod.containers;
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 10001,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(container.image).toBe('ghcr.io/ferry-dev/ferry:0.1.0');
    // The flags of `ferry controller` (src/cli/controller.ts).
    expect(container.args).toEqual([
      'controller',
      '--health-port=8080',
      '--namespace-credentials-secret=ferry-state-db-credentials',
      '--image=ghcr.io/ferry-dev/ferry:0.1.0',
      '--image-pull-policy=IfNotPresent',
      '--job-service-account=ferry-job',
      '--job-cpu-request=250m',
      '--job-memory-request=256Mi',
      '--job-memory-limit=1Gi',
      '--job-scratch-size=1Gi',
      '--job-files-scratch-size=10Gi',
      '--job-backoff-limit=0',
      '--job-active-deadline=21600',
      '--job-ttl=86400',
      '--lease-namespace=ferry-system',
      '--lease-name=ferry-leader',
    ]);
  });

  it('mounts an API token only into the controller and the data API', () => {
    expect(podSpec(controllerDeployment(objects)).automountServiceAccountToken).toBe(true);
    expect(podSpec(find(objects, 'Deployment', 'ferry-data-api')).automountServiceAccountToken).toBe(true);
    for (const account of ofKind(objects, 'ServiceAccount')) expect(account.automountServiceAccountToken, account.metadata.name).toBe(false);
    expect(podSpec(find(objects, 'StatefulSet', 'ferry-postgresql')).automountServiceAccountToken).toBe(false);
  });

  it('passes the state database URL from a Secret, never inline', () => {
    const [container] = podSpec(controllerDeployment(objects)).containers;
    expect(env(container, 'FERRY_STATE_DB_URL')).toEqual({
      name: 'FERRY_STATE_DB_URL',
      valueFrom: { secretKeyRef: { name: 'ferry-postgresql', key: 'url' } },
    });
    for (const variable of container.env) expect(variable.value ?? '').not.toMatch(/postgres:\/\//);
    const secret = find(objects, 'Secret', 'ferry-postgresql') as KubeObject & { stringData: Record<string, string> };
    expect(secret.stringData.url).toMatch(/^postgres:\/\/ferry:[A-Za-z0-9]{32}@ferry-postgresql\.ferry-system\.svc:5432\/ferry$/);
  });

  it('grants the controller exactly the verbs it uses', () => {
    expect(ruleTriples(rulesOf(find(objects, 'ClusterRole', 'ferry-controller')))).toEqual(CONTROLLER_ALLOWED.map(accessTriple).sort());
    const binding = find(objects, 'ClusterRoleBinding', 'ferry-controller');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'ferry-controller', namespace: 'ferry-system' }]);
  });

  it("limits the controller's update, delete, list and watch of Secrets to the namespaces' credentials Secret", () => {
    const named = rulesOf(find(objects, 'ClusterRole', 'ferry-controller')).filter((rule) => rule.resourceNames);
    expect(named).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['ferry-state-db-credentials'], verbs: ['update', 'delete', 'list', 'watch'] }]);
  });

  it('limits leader election to its own Lease', () => {
    expect(rulesOf(find(objects, 'Role', 'ferry-leader-election'))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['ferry-leader'], verbs: ['get', 'update'] },
    ]);
  });

  it('gives Job pods only get on their SyncJob, SyncFlow and ExportTargets', () => {
    expect(ruleTriples(rulesOf(find(objects, 'Role', 'ferry-job')))).toEqual(JOB_ALLOWED.map(accessTriple).sort());
    expect(find(objects, 'RoleBinding', 'ferry-job').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ferry-job', namespace: 'ferry-system' }]);
  });

  it('aggregates ferry-view into view/edit/admin and ferry-edit into edit/admin', () => {
    const view = find(objects, 'ClusterRole', 'ferry-view');
    const edit = find(objects, 'ClusterRole', 'ferry-edit');
    expect(view.metadata.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
    });
    expect(edit.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' });
    expect(edit.metadata.labels).not.toHaveProperty(['rbac.authorization.k8s.io/aggregate-to-view']);
    expect(ruleTriples(rulesOf(edit))).toContain('ferry.dev syncjobs create');
    expect(ruleTriples(rulesOf(view)).every((triple) => /(get|list|watch)$/.test(triple))).toBe(true);
    // The data API: ferry-view reads, ferry-edit also downloads files and sees sensitive values.
    expect(ruleTriples(rulesOf(view)).filter((t) => t.startsWith('data.ferry.dev '))).toEqual(DATA_VIEW_ALLOWED.map(accessTriple).sort());
    expect(ruleTriples(rulesOf(edit)).filter((t) => t.startsWith('data.ferry.dev '))).toEqual(DATA_EDIT_ALLOWED.map(accessTriple).sort());
  });

  it('keeps the CRDs on uninstall and renders them exactly as crds/', () => {
    for (const crd of ofKind(objects, 'CustomResourceDefinition')) {
      const fileName = `ferry.dev_${crd.metadata.name.split('.')[0]}.yaml`;
      const source = parse(readFileSync(join(crdSourceDir, fileName), 'utf8')) as KubeObject;
      expect(crd).toEqual({ ...source, metadata: { ...source.metadata, annotations: { 'helm.sh/resource-policy': 'keep' } } });
    }
  });
});

describe('chart CRD templates', () => {
  it('are generated from crds/ and up to date (run `npm run gen:crds`)', () => {
    const rendered = renderChartCrds();
    expect(Object.keys(rendered)).toEqual(readdirSync(crdSourceDir).filter((name) => name.endsWith('.yaml')).sort());
    expect(readdirSync(chartCrdDir).sort()).toEqual(Object.keys(rendered));
    for (const [name, text] of Object.entries(rendered)) {
      expect(readFileSync(join(chartCrdDir, name), 'utf8') === text, `charts/ferry/templates/crds/${name} is stale: run \`npm run gen:crds\``).toBe(true);
    }
  });

  it('refuses a CRD that Helm would read as a template', () => {
    expect(() => chartCrdTemplate('x.yaml', 'metadata:\n  name: x\ndescription: "{{ oops }}"\n')).toThrow(/template action/);
  });

  it('are left out with crds.install=false', () => {
    expect(ofKind(renderChart(['--set', 'crds.install=false']), 'CustomResourceDefinition')).toEqual([]);
  });
});

describe('helm template with each documented option set (charts/ferry/ci)', () => {
  it.each(ciValues)('%s renders', (file) => {
    expect(controllerDeployment(renderChart(['-f', join(chartDir, 'ci', file)]))).toBeDefined();
  });

  it('an existing state database replaces the evaluation PostgreSQL', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'existing-database-values.yaml')]);
    expect(ofKind(objects, 'StatefulSet')).toEqual([]);
    const [container] = podSpec(controllerDeployment(objects)).containers;
    expect(env(container, 'FERRY_STATE_DB_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'ferry-state-app', key: 'uri' } });
    expect(container.args).toContain('--environment=prod');
    expect(container.args).toContain('--namespace-credentials-secret=ferry-state-db-credentials');
  });

  it('watchNamespaces turns the ClusterRole into one Role per namespace', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'namespaced-values.yaml')]);
    // Only the data API's delegation is cluster-wide (TokenReview and SubjectAccessReview have no namespace).
    expect(ofKind(objects, 'ClusterRoleBinding').map((b) => b.metadata.name).sort()).toEqual(['ferry-data-api:system:auth-delegator']);
    expect(ofKind(objects, 'ClusterRole').map((r) => r.metadata.name).sort()).toEqual(['ferry-edit', 'ferry-view']);
    expect(ruleTriples(rulesOf(find(objects, 'Role', 'ferry-data-api', 'team-a')))).toEqual(['ferry.dev syncflows get']);
    expect(find(objects, 'RoleBinding', 'ferry-data-api', 'team-a').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ferry-data-api', namespace: 'ferry-system' }]);
    for (const namespace of ['team-a']) {
      expect(ruleTriples(rulesOf(find(objects, 'Role', 'ferry-controller', namespace)))).toEqual(CONTROLLER_ALLOWED.map(accessTriple).sort());
      expect(find(objects, 'RoleBinding', 'ferry-controller', namespace).subjects).toEqual([
        { kind: 'ServiceAccount', name: 'ferry-controller', namespace: 'ferry-system' },
      ]);
      expect(find(objects, 'ServiceAccount', 'ferry-job', namespace)).toBeDefined();
      expect(find(objects, 'RoleBinding', 'ferry-job', namespace)).toBeDefined();
    }
    // No Jobs run in the release namespace unless it is watched.
    expect(objects.filter((o) => o.metadata.name === 'ferry-job' && o.metadata.namespace === 'ferry-system')).toEqual([]);
    const [container] = podSpec(controllerDeployment(objects)).containers;
    expect(container.args).toContain('--namespace=team-a');
  });

  it('two replicas share one Lease and get a PodDisruptionBudget', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'ha-values.yaml')]);
    expect((controllerDeployment(objects).spec as { replicas: number }).replicas).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'ferry-controller').spec).toMatchObject({ maxUnavailable: 1 });
    expect(rulesOf(find(objects, 'Role', 'ferry-leader-election'))[1].resourceNames).toEqual(['ferry-prod-leader']);
  });

  it('every option lands where it should', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'full-options-values.yaml')]);
    expect(ofKind(objects, 'CustomResourceDefinition')).toEqual([]);
    expect(objects.filter((o) => o.metadata.name === 'ferry-view' || o.metadata.name === 'ferry-edit')).toEqual([]);
    const deployment = controllerDeployment(objects);
    const pod = podSpec(deployment);
    const [container] = pod.containers;
    expect(container.image).toBe('registry.example.com/platform/ferry:0.1.0');
    expect(container.imagePullPolicy).toBe('Always');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-pull' }]);
    // The Job pods pull the same image, so the controller passes the pull secret on.
    expect(container.args).toContain('--job-image-pull-secret=registry-pull');
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }]);
    expect(pod.affinity).toHaveProperty('nodeAffinity');
    expect(pod.priorityClassName).toBe('platform-critical');
    const template = (deployment.spec as { template: { metadata: KubeObject['metadata'] } }).template;
    expect(template.metadata.annotations).toMatchObject({ 'example.com/team': 'platform' });
    expect(template.metadata.labels).toMatchObject({ 'cost-center': 'data' });
    expect(env(container, 'FERRY_SMTP_SECRET')?.value).toBe('ferry-system/ferry-smtp');
    expect(env(container, 'FERRY_CONSOLE_URL')?.value).toBe('https://ferry.example.org/console');
    expect(env(container, 'FERRY_LOG_LEVEL')?.value).toBe('debug');
    expect(env(container, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=384');
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--health-port=9090',
        '--image=registry.example.com/platform/ferry-job:0.1.0',
        '--image-pull-policy=Always',
        '--job-service-account=ferry-sync',
        '--job-cpu-request=1',
        '--job-memory-limit=4Gi',
        '--job-scratch-size=2Gi',
        '--job-files-scratch-size=40Gi',
        '--job-active-deadline=7200',
        '--job-backoff-limit=1',
        '--job-ttl=3600',
        '--webhook-port=8443',
      ]),
    );
    expect(container.ports).toEqual(expect.arrayContaining([{ name: 'webhooks', containerPort: 8443, protocol: 'TCP' }]));
    expect(find(objects, 'Service', 'ferry-webhooks').spec).toMatchObject({ ports: [{ name: 'webhooks', port: 8443, targetPort: 'webhooks' }] });
    for (const namespace of ['ferry-system', 'sales', 'marketing']) expect(find(objects, 'ServiceAccount', 'ferry-sync', namespace)).toBeDefined();
    const monitor = find(objects, 'ServiceMonitor', 'ferry-controller');
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(monitor.spec).toMatchObject({ endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }] });
    expect(find(objects, 'ServiceAccount', 'ferry-controller').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ferry',
    });
  });

  it('the evaluation database keeps a given password and its volume settings', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'evaluation-values.yaml')]);
    expect((find(objects, 'Secret', 'ferry-postgresql') as KubeObject & { stringData: Record<string, string> }).stringData.url).toBe(
      'postgres://ferry:evaluation-only@ferry-postgresql.ferry-system.svc:5432/ferry',
    );
    const claim = (find(objects, 'StatefulSet', 'ferry-postgresql').spec as { volumeClaimTemplates: { spec: unknown }[] }).volumeClaimTemplates[0];
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'standard', resources: { requests: { storage: '2Gi' } } });
  });
});

describe('bad values fail with a message that names them', () => {
  it.each([
    [['--set', 'environment=Prod'], "at '/environment': 'Prod' does not match pattern"],
    [['--set', 'replicaCount=two'], "at '/replicaCount': got string, want integer"],
    [['--set', 'crds.instal=true'], "additional properties 'instal' not allowed"],
    [['--set', 'securityContext.runAsNonRoot=false'], "at '/securityContext/runAsNonRoot'"],
    [['--set', 'logLevel=verbose'], "at '/logLevel'"],
    [['--set', 'jobs.resources.limits.memory=lots'], "at '/jobs/resources/limits/memory'"],
    [['--set', 'jobs.scratch.filesSizeLimit=20GB'], "at '/jobs/scratch/filesSizeLimit'"],
    [['--set', 'jobs.scratch.sizeLimit=0'], "at '/jobs/scratch/sizeLimit'"],
    [['--set', 'watchNamespaces={team-a,team-b}'], "at '/watchNamespaces'"],
  ])('%s', (flags, message) => {
    const result = helm(['template', 'ferry', chartDir, ...flags]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(message);
  });

  it('no state database at all', () => {
    const result = helm(['template', 'ferry', chartDir, '--set', 'postgresql.enabled=false']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ferry: no state database: set stateDatabase.existingSecret');
  });
});

describe('the chart and `ferry controller` agree', () => {
  it('every flag the chart passes is one the controller accepts', () => {
    const help = execFileSync(process.execPath, [join(repoRoot, 'bin', 'ferry.mjs'), 'controller', '--help'], { encoding: 'utf8' });
    const flags = new Set<string>();
    for (const file of [...ciValues.map((f) => join(chartDir, 'ci', f)), undefined]) {
      const [container] = podSpec(controllerDeployment(renderChart(file ? ['-f', file] : []))).containers;
      for (const arg of container.args ?? []) if (arg.startsWith('--')) flags.add(arg.split('=')[0]);
    }
    expect(flags.size).toBeGreaterThan(10);
    for (const flag of flags) expect(help, `ferry controller has no ${flag}`).toMatch(new RegExp(`${flag}[ ,<]`));
  });

  it('namespaced mode lets the controller read only the default SMTP Secret in its own namespace', () => {
    const objects = renderChart(['-f', join(chartDir, 'ci', 'namespaced-values.yaml'), '--set', 'smtp.existingSecret=ferry-smtp']);
    expect(rulesOf(find(objects, 'Role', 'ferry-smtp', 'ferry-system'))).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['ferry-smtp'], verbs: ['get'] },
    ]);
  });
});

describe('the data API (data.ferry.dev)', () => {
  const objects = renderChart();
  const tls = find(objects, 'Secret', 'ferry-data-api-tls') as KubeObject & { data: Record<string, string> };
  const apiService = find(objects, 'APIService', 'v1alpha1.data.ferry.dev') as KubeObject & { spec: Record<string, unknown> };

  it('registers an APIService whose caBundle is the CA that signed the serving certificate for its Service', () => {
    expect(apiService.spec).toMatchObject({
      group: 'data.ferry.dev',
      version: 'v1alpha1',
      service: { namespace: 'ferry-system', name: 'ferry-data-api', port: 443 },
      caBundle: tls.data['ca.crt'],
    });
    const ca = new X509Certificate(Buffer.from(tls.data['ca.crt'], 'base64'));
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt'], 'base64'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    // The aggregator verifies the server as <service>.<namespace>.svc.
    expect(cert.checkHost('ferry-data-api.ferry-system.svc')).toBe('ferry-data-api.ferry-system.svc');
    expect((find(objects, 'Service', 'ferry-data-api').spec as { ports: unknown[] }).ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
  });

  it('runs `ferry data-api` with the certificate mounted, the state database from a Secret and a restricted pod', () => {
    const pod = podSpec(find(objects, 'Deployment', 'ferry-data-api'));
    const [container] = pod.containers;
    expect(pod.serviceAccountName).toBe('ferry-data-api');
    expect(container.args).toEqual(['data-api', '--port=8443', '--tls-cert-file=/var/run/ferry/tls/tls.crt', '--tls-private-key-file=/var/run/ferry/tls/tls.key']);
    expect(env(container, 'FERRY_STATE_DB_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'ferry-postgresql', key: 'url' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' } });
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'ferry-data-api-tls' } });
    const help = execFileSync(process.execPath, [join(repoRoot, 'bin', 'ferry.mjs'), 'data-api', '--help'], { encoding: 'utf8' });
    for (const arg of container.args!.slice(1)) expect(help, `ferry data-api has no ${arg}`).toContain(arg.split('=')[0]);
  });

  it('delegates authentication and authorization, and may do nothing else', () => {
    const delegator = find(objects, 'ClusterRoleBinding', 'ferry-data-api:system:auth-delegator');
    expect(delegator.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' });
    expect(delegator.subjects).toEqual([{ kind: 'ServiceAccount', name: 'ferry-data-api', namespace: 'ferry-system' }]);
    const reader = find(objects, 'RoleBinding', 'ferry-data-api:extension-apiserver-authentication-reader', 'kube-system');
    expect(reader.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' });
    // Which fields are sensitive comes from the SyncFlows: get, nothing more.
    expect(rulesOf(find(objects, 'ClusterRole', 'ferry-data-api'))).toEqual([{ apiGroups: ['ferry.dev'], resources: ['syncflows'], verbs: ['get'] }]);
    const bindings = objects.filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && JSON.stringify(o.subjects).includes('ferry-data-api'));
    expect(bindings.map((b) => (b.roleRef as { name: string }).name).sort()).toEqual(['extension-apiserver-authentication-reader', 'ferry-data-api', 'system:auth-delegator']);
  });

  it('takes its certificate from cert-manager when asked, with the CA injected into the APIService', () => {
    const own = renderChart(['--set', 'dataApi.certManager.enabled=true']);
    expect(ofKind(own, 'Secret').map((s) => s.metadata.name)).toEqual(['ferry-postgresql']);
    expect(find(own, 'APIService', 'v1alpha1.data.ferry.dev').metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'ferry-system/ferry-data-api' });
    expect((find(own, 'APIService', 'v1alpha1.data.ferry.dev') as KubeObject & { spec: Record<string, unknown> }).spec.caBundle).toBeUndefined();
    expect(find(own, 'Certificate', 'ferry-data-api').spec).toMatchObject({ secretName: 'ferry-data-api-tls', dnsNames: ['ferry-data-api.ferry-system.svc', 'ferry-data-api.ferry-system', 'ferry-data-api'], issuerRef: { name: 'ferry-data-api-ca', kind: 'Issuer' } });
    const corporate = renderChart(['--set', 'dataApi.certManager.enabled=true', '--set', 'dataApi.certManager.issuerRef.name=corp-ca', '--set', 'dataApi.certManager.issuerRef.kind=ClusterIssuer']);
    expect(ofKind(corporate, 'Issuer')).toEqual([]);
    expect(find(corporate, 'Certificate', 'ferry-data-api').spec).toMatchObject({ issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } });
  });

  it('is left out with dataApi.enabled=false', () => {
    const without = renderChart(['--set', 'dataApi.enabled=false']);
    expect(without.filter((o) => o.kind === 'APIService' || o.metadata.name.startsWith('ferry-data-api'))).toEqual([]);
  });
});
