import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allCrds, crdFileName, renderCrdYaml, toStructuralSchema, type CustomResourceDefinition } from '../../../src/api/index.js';
import { Type } from '@sinclair/typebox';
import { structuralViolations } from './structural-rules.js';

const crdDir = join(import.meta.dirname, '../../../crds');

describe('generated CRDs', () => {
  it.each(Object.entries(renderCrdYaml()))('crds/%s is up to date', (fileName, expected) => {
    let onDisk = '';
    try {
      onDisk = readFileSync(join(crdDir, fileName), 'utf8');
    } catch {
      // reported by the comparison below
    }
    expect(onDisk === expected, `crds/${fileName} is out of date: run \`npm run gen:crds\``).toBe(true);
  });

  it.each(allCrds().map((crd) => [crd.spec.names.kind, crd] as const))('%s has a structural schema', (_kind, crd) => {
    expect(structuralViolations(crd.spec.versions[0].schema.openAPIV3Schema)).toEqual([]);
  });

  it('round-trips through YAML unchanged', () => {
    const rendered = renderCrdYaml();
    for (const crd of allCrds()) expect(parse(rendered[crdFileName(crd)])).toEqual(crd);
  });

  const byKind = (kind: string) => allCrds().find((c) => c.spec.names.kind === kind) as CustomResourceDefinition;

  it('names, short names and the ferry category', () => {
    expect(allCrds().map((c) => [c.metadata.name, c.spec.names.shortNames, c.spec.names.categories])).toEqual([
      ['syncflows.ferry.dev', ['sf', 'sflow'], ['ferry']],
      ['syncjobs.ferry.dev', ['sj', 'sjob'], ['ferry']],
      ['exporttargets.ferry.dev', ['et', 'etarget'], ['ferry']],
    ]);
    for (const crd of allCrds()) {
      expect(crd.spec.versions[0].subresources).toEqual({ status: {} });
      expect(crd.spec.scope).toBe('Namespaced');
    }
  });

  it('printer columns', () => {
    const columns = (kind: string) => byKind(kind).spec.versions[0].additionalPrinterColumns.map((c) => `${c.name}=${c.jsonPath}`);
    expect(columns('SyncFlow')).toEqual([
      'Direction=.spec.direction',
      'Ready=.status.conditions[?(@.type=="Ready")].status',
      'Last Sync=.status.lastSyncTime',
      'Next Sync=.status.nextSyncTime',
      'Age=.metadata.creationTimestamp',
    ]);
    expect(columns('SyncJob')).toEqual([
      'Flow=.spec.flowRef.name',
      'Mode=.spec.mode',
      'Phase=.status.phase',
      'Duration=.status.duration',
      'Age=.metadata.creationTimestamp',
    ]);
    expect(columns('ExportTarget')).toEqual([
      'Protocol=.spec.protocol',
      'Host=.spec.host',
      'Ready=.status.conditions[?(@.type=="Ready")].status',
      'Age=.metadata.creationTimestamp',
    ]);
  });

  it('uses map lists for named lists and bounds the status', () => {
    const flow = byKind('SyncFlow').spec.versions[0].schema.openAPIV3Schema.properties!;
    const entities = flow.spec.properties!.entities;
    expect(entities['x-kubernetes-list-type']).toBe('map');
    expect(entities['x-kubernetes-list-map-keys']).toEqual(['name']);
    expect(flow.status.properties!.conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(flow.status.properties!.history.maxItems).toBe(5);
    const job = byKind('SyncJob').spec.versions[0].schema.openAPIV3Schema.properties!;
    expect(job.status.properties!.summary.properties!.entities.maxItems).toBeGreaterThan(0);
  });
});

describe('toStructuralSchema', () => {
  it('turns a free-form map into additionalProperties and drops TypeBox metadata', () => {
    const schema = Type.Object({ labels: Type.Record(Type.String(), Type.String()) }, { additionalProperties: false, $id: 'x' });
    expect(toStructuralSchema(schema)).toEqual({
      type: 'object',
      required: ['labels'],
      properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } },
    });
  });

  it('does not require a field the API server defaults', () => {
    const schema = Type.Object({ direction: Type.String({ default: 'OneWay' }), name: Type.String() });
    expect(toStructuralSchema(schema).required).toEqual(['name']);
    const flowSpec = allCrds().find((crd) => crd.spec.names.kind === 'SyncFlow')!.spec.versions[0].schema.openAPIV3Schema.properties!.spec;
    expect(flowSpec.required).not.toContain('direction');
    expect(flowSpec.required).toContain('source');
  });

  it('rejects what a CRD cannot hold', () => {
    expect(() => toStructuralSchema(Type.Union([Type.String(), Type.Number()]))).toThrow(/anyOf/);
    expect(() => toStructuralSchema(Type.Object({ a: Type.Literal('x') }))).toThrow(/const/);
    expect(() => toStructuralSchema(Type.Object({ a: Type.Any() }))).toThrow(/\.a: schema node has no type/);
  });

  it('detects a non-structural schema', () => {
    expect(
      structuralViolations({
        type: 'object',
        properties: { metadata: { type: 'object' }, apiVersion: { type: 'string' }, kind: { type: 'string' }, spec: { properties: {}, additionalProperties: false } },
      }),
    ).toEqual([
      '.spec: missing type',
      '.spec: additionalProperties and properties are mutually exclusive',
      '.spec: additionalProperties: false is not allowed',
      '.spec: properties on a non-object',
    ]);
  });
});
