import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubeTools } from '../../../scripts/kube-tools.js';

export const repoRoot = join(import.meta.dirname, '../../..');
export const chartDir = join(repoRoot, 'charts', 'ferry');

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(kubeTools().helm, args, { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, HELM_CACHE_HOME: '/tmp/ferry-helm-cache' } });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

const rendered = new Map<string, KubeObject[]>();

/**
 * `helm template` with extra flags (-f FILE, --set K=V), parsed; throws with Helm's message on failure.
 * Memoised per flag set (tests treat the result as read-only): helm starts slowly on a busy machine.
 */
export function renderChart(flags: string[] = [], namespace = 'ferry-system'): KubeObject[] {
  const key = JSON.stringify([namespace, ...flags]);
  const cached = rendered.get(key);
  if (cached) return cached;
  const result = helm(['template', 'ferry', chartDir, '--namespace', namespace, ...flags]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const documents = parseAllDocuments(result.stdout);
  // Duplicate keys and the like: the API server (and server-side apply) would refuse them.
  const problems = documents.flatMap((doc) => doc.errors.map((e) => e.message));
  if (problems.length) throw new Error(`helm template rendered invalid YAML: ${problems.join('; ')}`);
  const objects = documents
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((doc): doc is KubeObject => doc !== null);
  rendered.set(key, objects);
  return objects;
}

export const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);

export function find(objects: KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`${kind} ${namespace ? `${namespace}/` : ''}${name} not rendered; have ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}
