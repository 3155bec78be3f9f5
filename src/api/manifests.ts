import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { API_GROUP, API_VERSION } from './common.js';
import type { ExportTarget } from './exporttarget.js';
import type { SyncFlow } from './syncflow.js';
import type { SyncJob } from './syncjob.js';
import type { ValidationError } from './validation-error.js';
import { parseYamlDocuments } from './yaml-documents.js';

export interface SecretManifest {
  name: string;
  namespace?: string;
  stringData: Record<string, string>;
}

/**
 * Manifests as written in the files. They are not validated yet: run validateManifests before
 * trusting the types.
 */
export interface LoadedManifests {
  flows: SyncFlow[];
  jobs: SyncJob[];
  targets: ExportTarget[];
  secrets: SecretManifest[];
  errors: ValidationError[];
}

const FERRY_KINDS = ['SyncFlow', 'SyncJob', 'ExportTarget'] as const;

const sources = new WeakMap<object, string>();

/** Where a loaded manifest came from, e.g. `flows/people.yaml` or `flows/all.yaml#2`. */
export function manifestSource(manifest: object): string | undefined {
  return sources.get(manifest);
}

export function emptyManifests(): LoadedManifests {
  return { flows: [], jobs: [], targets: [], secrets: [], errors: [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeSecret(doc: Record<string, unknown>): SecretManifest {
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const stringData: Record<string, string> = {};
  if (isObject(doc.data)) {
    for (const [key, value] of Object.entries(doc.data)) stringData[key] = Buffer.from(String(value), 'base64').toString('utf8');
  }
  // As in Kubernetes, stringData wins over data for the same key.
  if (isObject(doc.stringData)) {
    for (const [key, value] of Object.entries(doc.stringData)) stringData[key] = String(value);
  }
  return {
    name: String(metadata.name ?? ''),
    ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
    stringData,
  };
}

/** Parses a multi-document YAML text; `sourceName` labels errors and manifestSource(). */
export function parseManifests(text: string, sourceName: string): LoadedManifests {
  const out = emptyManifests();
  // Empty documents (a trailing `---`) are no manifests.
  const parsed = parseYamlDocuments(text).filter((doc) => doc.errors.length > 0 || (doc.value !== null && doc.value !== undefined));

  parsed.forEach(({ value, errors }, index) => {
    const source = parsed.length > 1 ? `${sourceName}#${index + 1}` : sourceName;
    for (const message of errors) out.errors.push({ source, path: '', message: `invalid YAML: ${message}` });
    if (!isObject(value)) return;
    const { apiVersion, kind } = value;
    if (apiVersion === 'v1' && kind === 'Secret') {
      out.secrets.push(decodeSecret(value));
      return;
    }
    if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${API_GROUP}/`)) return;
    if (apiVersion !== API_VERSION) {
      out.errors.push({ source, path: 'apiVersion', message: `unsupported apiVersion "${apiVersion}", use ${API_VERSION}` });
      return;
    }
    if (!FERRY_KINDS.includes(kind as (typeof FERRY_KINDS)[number])) {
      out.errors.push({ source, path: 'kind', message: `unknown kind "${String(kind)}", expected one of ${FERRY_KINDS.join(', ')}` });
      return;
    }
    sources.set(value, source);
    if (kind === 'SyncFlow') out.flows.push(value as unknown as SyncFlow);
    else if (kind === 'SyncJob') out.jobs.push(value as unknown as SyncJob);
    else out.targets.push(value as unknown as ExportTarget);
  });
  return out;
}

function yamlFilesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.'))
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return yamlFilesUnder(child);
      return /\.ya?ml$/.test(entry.name) ? [child] : [];
    });
}

export function mergeManifests(parts: readonly LoadedManifests[]): LoadedManifests {
  const out = emptyManifests();
  for (const part of parts) {
    out.flows.push(...part.flows);
    out.jobs.push(...part.jobs);
    out.targets.push(...part.targets);
    out.secrets.push(...part.secrets);
    out.errors.push(...part.errors);
  }
  return out;
}

/** Loads one or more files or directories (recursively, *.yaml and *.yml, in sorted order). */
export function loadManifests(fileOrDir: string | readonly string[]): LoadedManifests {
  const roots = typeof fileOrDir === 'string' ? [fileOrDir] : fileOrDir;
  const parts: LoadedManifests[] = [];
  for (const root of roots) {
    let files: string[];
    try {
      files = yamlFilesUnder(root).sort();
    } catch (error) {
      parts.push({ ...emptyManifests(), errors: [{ source: root, path: '', message: (error as Error).message }] });
      continue;
    }
    for (const file of files) parts.push(parseManifests(readFileSync(file, 'utf8'), file));
  }
  return mergeManifests(parts);
}
