/**
 * `helm install` of charts/ferry into a real kube-apiserver (test/e2e/harness): every object is
 * created, the CRDs are established, and `kubectl auth can-i` as the controller's and the Jobs'
 * ServiceAccounts shows they can do exactly what Ferry needs. No kubelet runs here, so pods stay
 * Pending; what is under test is what the API server accepts and authorises.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeTools } from '../../scripts/kube-tools.js';
import {
  CONTROLLER_ALLOWED,
  CONTROLLER_FORBIDDEN,
  JOB_ALLOWED,
  JOB_FORBIDDEN,
  LEASE_ALLOWED,
  LEASE_FORBIDDEN,
  type Access,
} from '../unit/delivery/rbac-expectations.js';
import { startKubeApiServer, type KubeApiServer } from './harness/kube-apiserver.js';

const repo = join(import.meta.dirname, '../..');
const chart = join(repo, 'charts', 'ferry');
const NS = 'ferry-system';
const CONTROLLER_SA = `system:serviceaccount:${NS}:ferry-controller`;
const JOB_SA = `system:serviceaccount:${NS}:ferry-job`;

let server: KubeApiServer;
const tools = kubeTools();

function run(binary: string, args: string[], input?: string) {
  const result = spawnSync(binary, [...args, '--kubeconfig', server.kubeconfigPath], { encoding: 'utf8', input, timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
const kubectl = (...args: string[]) => run(tools.kubectl, args);
const helm = (...args: string[]) => run(tools.helm, args);
/**
 * The test apiserver is built from Debian's kubernetes source package (1.20), which predates CEL rules
 * (x-kubernetes-validations, 1.25+). Its OpenAPI and its server-side apply type checks reject the field,
 * while a plain create accepts (and prunes) it. So here Helm validates nothing client-side and applies
 * client-side. Clusters from 1.25 on need neither flag.
 */
const OLD_SERVER_FLAGS = ['--disable-openapi-validation', '--server-side=false'];

function ok(result: { status: number; stdout: string; stderr: string }): string {
  expect(result.status, result.stderr || result.stdout).toBe(0);
  return result.stdout;
}

/** `kubectl auth can-i` as a subject; true for "yes" (exit 0), false for "no" (exit 1). */
function canI(subject: string, access: Access, namespace: string, lease = 'ferry-leader'): boolean {
  // "x/status" is a subresource; "leases.coordination.k8s.io/NAME" is TYPE/NAME, as kubectl spells it.
  const [resource, subresource] = access.resource.endsWith('/status') ? [access.resource.slice(0, -'/status'.length), 'status'] : [access.resource.replace('/LEASE', `/${lease}`)];
  const extra = subresource ? ['--subresource', subresource] : [];
  const result = kubectl('auth', 'can-i', access.verb, resource, ...extra, '--as', subject, '-n', namespace);
  if (result.status > 1) throw new Error(`kubectl auth can-i failed: ${result.stderr}`);
  return result.status === 0;
}

const label = (access: Access) => `${access.verb} ${access.resource}`;

beforeAll(async () => {
  // Helm installs the CRDs: start without them.
  server = await startKubeApiServer({ crdsDir: null });
  ok(kubectl('create', 'namespace', 'team-a'));
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

describe('helm install of charts/ferry', () => {
  let manifest = '';

  it('installs with the default values', () => {
    const out = ok(helm('install', 'ferry', chart, '--namespace', NS, '--create-namespace', '--set', 'environment=prod', '--timeout', '60s', ...OLD_SERVER_FLAGS));
    expect(out).toContain('STATUS: deployed');
    expect(out).toContain('kubectl ferry sync quickstart');
    manifest = ok(helm('get', 'manifest', 'ferry', '--namespace', NS));
  }, 120_000);

  it('created every object of the release', () => {
    const expected = manifest
      .split(/^---$/m)
      .map((doc) => parse(doc) as { kind: string; metadata: { name: string } } | null)
      .filter((doc): doc is { kind: string; metadata: { name: string } } => doc !== null)
      .map((doc) => `${doc.kind}/${doc.metadata.name}`);
    expect(expected.length).toBeGreaterThan(15);
    const present = ok(run(tools.kubectl, ['get', '-f', '-', '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}{"\\n"}{end}'], manifest))
      .trim()
      .split('\n');
    expect(present.sort()).toEqual(expected.sort());
  });

  it('the CRDs are established and kept on uninstall', () => {
    ok(kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/syncflows.ferry.dev', 'crd/syncjobs.ferry.dev', 'crd/exporttargets.ferry.dev'));
    const annotations = ok(kubectl('get', 'crd', 'syncjobs.ferry.dev', '-o', 'jsonpath={.metadata.annotations.helm\\.sh/resource-policy}'));
    expect(annotations).toBe('keep');
    // A fresh discovery cache: kubectl cached the API list before the CRDs existed.
    const cacheDir = mkdtempSync(join(tmpdir(), 'ferry-kubectl-cache-'));
    const result = run(tools.kubectl, ['get', 'ferry', '-A', '--cache-dir', cacheDir]);
    rmSync(cacheDir, { recursive: true, force: true });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('No resources found');
  });

  describe('the controller ServiceAccount', () => {
    it.each(CONTROLLER_ALLOWED.map((a) => [label(a), a] as const))('may %s in any namespace', (_label, access) => {
      expect(canI(CONTROLLER_SA, access, 'team-a')).toBe(true);
    });
    it.each(CONTROLLER_FORBIDDEN.map((a) => [label(a), a] as const))('may not %s', (_label, access) => {
      expect(canI(CONTROLLER_SA, access, 'team-a')).toBe(false);
    });
    it.each(LEASE_ALLOWED.map((a) => [label(a), a] as const))('may %s of its own Lease in the release namespace', (_label, access) => {
      expect(canI(CONTROLLER_SA, access, NS)).toBe(true);
      expect(canI(CONTROLLER_SA, access, 'team-a')).toBe(false);
    });
    it.each(LEASE_FORBIDDEN.map((a) => [label(a), a] as const))('may not %s', (_label, access) => {
      expect(canI(CONTROLLER_SA, access, NS)).toBe(false);
    });
  });

  describe('the Job ServiceAccount', () => {
    it.each(JOB_ALLOWED.map((a) => [label(a), a] as const))('may %s in its namespace only', (_label, access) => {
      expect(canI(JOB_SA, access, NS)).toBe(true);
      expect(canI(JOB_SA, access, 'team-a')).toBe(false);
    });
    it.each(JOB_FORBIDDEN.map((a) => [label(a), a] as const))('may not %s', (_label, access) => {
      expect(canI(JOB_SA, access, NS)).toBe(false);
    });
  });

  it('ferry-view and ferry-edit match the aggregation selectors of the built-in view, edit and admin roles', () => {
    const selectorsOf = (role: string) =>
      (JSON.parse(ok(kubectl('get', 'clusterrole', role, '-o', 'json'))) as { aggregationRule: { clusterRoleSelectors: { matchLabels: Record<string, string> }[] } })
        .aggregationRule.clusterRoleSelectors.map((s) => s.matchLabels);
    const labelsOf = (role: string) => (JSON.parse(ok(kubectl('get', 'clusterrole', role, '-o', 'json'))) as { metadata: { labels: Record<string, string> } }).metadata.labels;
    const aggregatesInto = (ours: string, builtIn: string) =>
      selectorsOf(builtIn).some((selector) => Object.entries(selector).every(([k, v]) => labelsOf(ours)[k] === v));
    for (const builtIn of ['view', 'edit', 'admin']) expect(aggregatesInto('ferry-view', builtIn), `ferry-view -> ${builtIn}`).toBe(true);
    for (const builtIn of ['edit', 'admin']) expect(aggregatesInto('ferry-edit', builtIn), `ferry-edit -> ${builtIn}`).toBe(true);
    expect(aggregatesInto('ferry-edit', 'view')).toBe(false);
  });

  describe('the data API (data.ferry.dev)', () => {
    const DATA_API_SA = `system:serviceaccount:${NS}:ferry-data-api`;
    /**
     * A SubjectAccessReview, as the data API itself asks (kubectl auth can-i would need the group in
     * discovery, and no data API server runs here). `resource` is `name[.group]`.
     */
    const may = (subject: string, verb: string, resource: string, namespace: string, subresource?: string, name?: string) => {
      const dot = resource.indexOf('.');
      const [plural, group] = dot < 0 ? [resource, ''] : [resource.slice(0, dot), resource.slice(dot + 1)];
      const serviceAccount = /^system:serviceaccount:([^:]+):/.exec(subject);
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: subject,
          groups: serviceAccount ? ['system:serviceaccounts', `system:serviceaccounts:${serviceAccount[1]}`, 'system:authenticated'] : ['system:authenticated'],
          resourceAttributes: { verb, group, resource: plural, namespace, ...(subresource ? { subresource } : {}), ...(name ? { name } : {}) },
        },
      };
      const result = run(tools.kubectl, ['create', '-f', '-', '-o', 'json'], JSON.stringify(review));
      if (result.status !== 0) throw new Error(`SubjectAccessReview failed: ${result.stderr}`);
      return (JSON.parse(result.stdout) as { status: { allowed: boolean } }).status.allowed;
    };

    it('its ServiceAccount may delegate authentication and authorization, read the front-proxy CA and SyncFlows, and nothing more', () => {
      expect(may(DATA_API_SA, 'create', 'tokenreviews.authentication.k8s.io', NS)).toBe(true);
      expect(may(DATA_API_SA, 'create', 'subjectaccessreviews.authorization.k8s.io', NS)).toBe(true);
      expect(may(DATA_API_SA, 'get', 'configmaps', 'kube-system', undefined, 'extension-apiserver-authentication')).toBe(true);
      expect(may(DATA_API_SA, 'get', 'syncflows.ferry.dev', 'team-a')).toBe(true);
      for (const [verb, resource, namespace] of [['list', 'syncflows.ferry.dev', 'team-a'], ['get', 'secrets', NS], ['get', 'configmaps', 'team-a'], ['create', 'syncjobs.ferry.dev', 'team-a']]) {
        expect(may(DATA_API_SA, verb, resource, namespace), `${verb} ${resource}`).toBe(false);
      }
    });

    it('ferry-view reads pairs, runs with reports and export files; only ferry-edit downloads files and sees sensitive values', () => {
      for (const [user, roles] of [['data-viewer', ['ferry-view']], ['data-editor', ['ferry-view', 'ferry-edit']]] as const) {
        for (const role of roles) ok(kubectl('create', 'rolebinding', `${user}-${role}`, '-n', 'team-a', `--clusterrole=${role}`, `--user=${user}`));
      }
      for (const user of ['data-viewer', 'data-editor']) {
        for (const resource of ['pairs', 'runs', 'exportfiles']) {
          for (const verb of ['get', 'list', 'watch']) expect(may(user, verb, `${resource}.data.ferry.dev`, 'team-a'), `${user} ${verb} ${resource}`).toBe(true);
        }
        expect(may(user, 'get', 'runs.data.ferry.dev', 'team-a', 'report')).toBe(true);
        expect(may(user, 'get', 'pairs.data.ferry.dev', 'other-namespace')).toBe(false);
      }
      expect(may('data-viewer', 'get', 'exportfiles.data.ferry.dev', 'team-a', 'download')).toBe(false);
      expect(may('data-viewer', 'get', 'pairs.data.ferry.dev', 'team-a', 'unmasked')).toBe(false);
      expect(may('data-editor', 'get', 'exportfiles.data.ferry.dev', 'team-a', 'download')).toBe(true);
      expect(may('data-editor', 'get', 'pairs.data.ferry.dev', 'team-a', 'unmasked')).toBe(true);
    });
  });

  it('the evaluation database Secret survives an upgrade with its generated password', () => {
    const password = () => ok(kubectl('get', 'secret', 'ferry-postgresql', '-n', NS, '-o', 'jsonpath={.data.password}'));
    const before = password();
    expect(before.length).toBeGreaterThan(20);
    ok(helm('upgrade', 'ferry', chart, '--namespace', NS, '--reuse-values', '--set', 'replicaCount=2', ...OLD_SERVER_FLAGS));
    expect(password()).toBe(before);
    expect(ok(kubectl('get', 'deploy', 'ferry-controller', '-n', NS, '-o', 'jsonpath={.spec.replicas}'))).toBe('2');
  }, 120_000);

  it('console.enabled adds the console: a Deployment, Service and ServiceAccount with no token and no rights of its own', () => {
    ok(helm('upgrade', 'ferry', chart, '--namespace', NS, '--reuse-values', '--set', 'console.enabled=true', '--set', 'console.signInUrl=/oauth2/start', ...OLD_SERVER_FLAGS));
    const deployment = JSON.parse(ok(kubectl('get', 'deploy', 'ferry-console', '-n', NS, '-o', 'json'))) as {
      spec: { template: { spec: { serviceAccountName: string; automountServiceAccountToken: boolean; containers: { args?: string[]; command?: string[]; ports?: { containerPort: number }[] }[]; volumes?: { configMap?: { name: string }; secret?: unknown }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe('ferry-console');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(JSON.stringify(pod.containers[0].args ?? pod.containers[0].command)).toContain('console');
    expect(JSON.stringify(pod.containers[0].args)).toContain('/oauth2/start');
    // Only the cluster CA is mounted: no Secret volume.
    expect((pod.volumes ?? []).filter((v) => v.secret !== undefined)).toEqual([]);
    expect(ok(kubectl('get', 'serviceaccount', 'ferry-console', '-n', NS, '-o', 'jsonpath={.automountServiceAccountToken}'))).toBe('false');
    expect(ok(kubectl('get', 'service', 'ferry-console', '-n', NS, '-o', 'jsonpath={.spec.ports[0].port}'))).toMatch(/^\d+$/);
    // No binding names the console's ServiceAccount: it reads nothing and starts nothing with its own identity.
    const bindings = ok(kubectl('get', 'rolebindings,clusterrolebindings', '-A', '-o', 'jsonpath={range .items[*]}{.subjects[*].name}{"\\n"}{end}'));
    expect(bindings.split('\n')).not.toContain('ferry-console');
  }, 120_000);

  it('a bad value is refused with the schema message before anything is applied', () => {
    const result = helm('upgrade', 'ferry', chart, '--namespace', NS, '--reuse-values', '--set', 'environment=Production', ...OLD_SERVER_FLAGS);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("at '/environment': 'Production' does not match pattern");
  });
});

describe('examples against the installed CRDs (server-side dry run: OpenAPI schema and CEL rules)', () => {
  beforeAll(() => {
    // Run on its own (vitest -t), this block installs the CRDs that the Helm release would have.
    if (kubectl('get', 'crd', 'syncflows.ferry.dev').status !== 0) ok(kubectl('create', '--validate=false', '-f', join(repo, 'crds')));
    ok(kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/syncflows.ferry.dev', 'crd/syncjobs.ferry.dev', 'crd/exporttargets.ferry.dev'));
  });

  const exampleFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return ['invalid', 'gitops'].includes(entry.name) && dir.endsWith('examples') ? [] : exampleFiles(path);
      return /\.ya?ml$/.test(entry.name) && entry.name !== 'kustomization.yaml' ? [path] : [];
    });

  // With kubectl's own client-side check too: defaulted fields such as spec.direction are not required.
  it.each(exampleFiles(join(repo, 'examples')).map((f) => [relative(repo, f), f] as const))('%s', (_name, file) => {
    ok(kubectl('apply', '--dry-run=server', '-n', 'team-a', '-f', file));
  });

  it('and the server does refuse a manifest that breaks the schema (examples/invalid/bad-direction.yaml)', () => {
    const result = kubectl('apply', '--dry-run=server', '--validate=false', '-n', 'team-a', '-f', join(repo, 'examples', 'invalid', 'bad-direction.yaml'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('spec.direction');
  });

  it.each(['prod', 'staging'])('examples/gitops/overlays/%s', (overlay) => {
    for (const namespace of ['crm', 'crm-staging']) kubectl('create', 'namespace', namespace);
    const dir = join(repo, 'examples', 'gitops', 'overlays', overlay);
    expect(statSync(join(dir, 'kustomization.yaml')).isFile()).toBe(true);
    ok(kubectl('apply', '--dry-run=server', '-k', dir));
  });
});

describe('helm uninstall', () => {
  it('removes the release but keeps the CRDs', () => {
    ok(helm('uninstall', 'ferry', '--namespace', NS, '--wait', '--timeout', '60s'));
    expect(kubectl('get', 'deploy', 'ferry-controller', '-n', NS).status).not.toBe(0);
    expect(kubectl('get', 'clusterrole', 'ferry-controller').status).not.toBe(0);
    ok(kubectl('get', 'crd', 'syncflows.ferry.dev', 'syncjobs.ferry.dev', 'exporttargets.ferry.dev'));
  }, 120_000);
});
