import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifests, manifestSource, parseManifests } from '../../../src/api/index.js';

const flowYaml = (name: string) => `apiVersion: ferry.dev/v1alpha1
kind: SyncFlow
metadata: { name: ${name} }
spec: {}
`;

describe('parseManifests', () => {
  it('splits documents, skips empty ones and ignores foreign kinds', () => {
    const loaded = parseManifests(
      [
        flowYaml('a'),
        '',
        '# only a comment',
        'apiVersion: ferry.dev/v1alpha1\nkind: SyncJob\nmetadata: {name: j}\nspec: {flowRef: {name: a}, mode: Full}',
        'apiVersion: ferry.dev/v1alpha1\nkind: ExportTarget\nmetadata: {name: t}\nspec: {}',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}',
        'just: values',
      ].join('\n---\n'),
      'all.yaml',
    );
    expect(loaded.flows.map((f) => f.metadata.name)).toEqual(['a']);
    expect(loaded.jobs.map((j) => j.metadata.name)).toEqual(['j']);
    expect(loaded.targets.map((t) => t.metadata.name)).toEqual(['t']);
    expect(loaded.errors).toEqual([]);
    expect(manifestSource(loaded.flows[0])).toBe('all.yaml#1');
    expect(manifestSource(loaded.targets[0])).toBe('all.yaml#3');
  });

  it('names a single-document file without an index', () => {
    expect(manifestSource(parseManifests(flowYaml('a'), 'a.yaml').flows[0])).toBe('a.yaml');
  });

  it('decodes Secrets, with stringData winning over data', () => {
    const loaded = parseManifests(
      `apiVersion: v1
kind: Secret
metadata: { name: db, namespace: ferry }
data:
  url: ${Buffer.from('postgres://old').toString('base64')}
  user: ${Buffer.from('ferry').toString('base64')}
stringData:
  url: postgres://new
`,
      'secret.yaml',
    );
    expect(loaded.secrets).toEqual([{ name: 'db', namespace: 'ferry', stringData: { url: 'postgres://new', user: 'ferry' } }]);
  });

  it('reports unknown ferry.dev kinds, other versions and YAML syntax errors', () => {
    const loaded = parseManifests(
      ['apiVersion: ferry.dev/v1alpha1\nkind: SyncFlo', 'apiVersion: ferry.dev/v1\nkind: SyncFlow', 'a: [unclosed'].join('\n---\n'),
      'bad.yaml',
    );
    expect(loaded.errors.map((e) => [e.source, e.path, e.message.split(':')[0]])).toEqual([
      ['bad.yaml#1', 'kind', 'unknown kind "SyncFlo", expected one of SyncFlow, SyncJob, ExportTarget'],
      ['bad.yaml#2', 'apiVersion', 'unsupported apiVersion "ferry.dev/v1", use ferry.dev/v1alpha1'],
      ['bad.yaml#3', '', 'invalid YAML'],
    ]);
  });
});

describe('loadManifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads *.yaml and *.yml recursively in sorted order', () => {
    mkdirSync(join(dir, 'b'));
    mkdirSync(join(dir, '.hidden'));
    writeFileSync(join(dir, 'b', 'z.yml'), flowYaml('third'));
    writeFileSync(join(dir, 'b', 'a.yaml'), flowYaml('second'));
    writeFileSync(join(dir, 'a.yaml'), flowYaml('first'));
    writeFileSync(join(dir, 'notes.txt'), flowYaml('ignored'));
    writeFileSync(join(dir, '.hidden', 'x.yaml'), flowYaml('hidden'));
    const loaded = loadManifests(dir);
    expect(loaded.flows.map((f) => f.metadata.name)).toEqual(['first', 'second', 'third']);
    expect(manifestSource(loaded.flows[1])).toBe(join(dir, 'b', 'a.yaml'));
  });

  it('accepts several paths and reports missing ones', () => {
    const loaded = loadManifests([join(dir, 'a.yaml'), join(dir, 'missing.yaml')]);
    expect(loaded.flows).toHaveLength(1);
    expect(loaded.errors).toEqual([{ source: join(dir, 'missing.yaml'), path: '', message: expect.stringContaining('no such file') }]);
  });
});
