import { describe, expect, it } from 'vitest';
import { allCrds, checkManifestSchema, crdSchemaErrors, metaSchemaErrors, withStrictFields } from '../../../src/api/index.js';

const flow = () => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncFlow',
  metadata: { name: 'association', labels: { team: 'data' } },
  spec: {
    source: { postgres: { secretRef: { name: 'source-db' } } },
    target: { postgres: { secretRef: { name: 'target-db' } } },
    entities: [
      {
        name: 'people',
        source: { table: 'people', keys: ['id'] },
        target: { table: 'contacts', keys: ['id'] },
        fields: [{ source: 'first_name', target: 'given_name' }],
      },
    ],
  },
});

type Mutable = Record<string, any>;
const cases: [string, (m: Mutable) => void, [string, string][]][] = [
  ['a minimal flow with defaults left out', () => {}, []],
  ['a misspelled field deep in the spec', (m) => (m.spec.entities[0].fields[0].lookpu = 'firms'), [['spec.entities[0].fields[0].lookpu', 'unknown field "lookpu" (did you mean "lookup"?)']]],
  ['a misspelled field in an entity side (compiled once for source and target)', (m) => (m.spec.entities[0].target.tabel = 'x'), [['spec.entities[0].target.tabel', 'unknown field "tabel" (did you mean "table"?)']]],
  ['a bad value in an entity side', (m) => (m.spec.entities[0].source.keys = 'id'), [['spec.entities[0].source.keys', 'must be array, got "id"']]],
  ['a misspelled top-level field', (m) => (m.spce = {}), [['spce', 'unknown field "spce" (did you mean "spec"?)']]],
  ['an object where a string belongs', (m) => (m.spec.concurrencyPolicy = { policy: 'Forbid' }), [['spec.concurrencyPolicy', 'must be string, got {"policy":"Forbid"}'], ['spec.concurrencyPolicy', 'must be one of']]],
  ['a missing required field', (m) => delete m.spec.entities[0].fields, [['spec.entities[0].fields', 'required field is missing']]],
  ['an empty key list', (m) => (m.spec.entities[0].source.keys = []), [['spec.entities[0].source.keys', 'must NOT have fewer than 1 items']]],
  ['a bad enum', (m) => (m.spec.concurrencyPolicy = 'Allow'), [['spec.concurrencyPolicy', 'must be one of Forbid, Queue, Replace']]],
  ['a number out of range', (m) => (m.spec.batchSize = 0), [['spec.batchSize', 'must be >= 1']]],
  ['a string where a number belongs', (m) => (m.spec.batchSize = '5000'), [['spec.batchSize', 'must be integer, got "5000"']]],
  ['a Secret name that is not DNS-1123', (m) => (m.spec.source.postgres.secretRef.name = 'Source_DB'), [['spec.source.postgres.secretRef.name', 'invalid value "Source_DB"']]],
  ['a bad e-mail', (m) => (m.spec.notifications = { adminEmails: ['ops'] }), [['spec.notifications.adminEmails[0]', 'invalid value "ops"']]],
  ['a SQL injection attempt as a column', (m) => (m.spec.entities[0].fields[0].target = 'name; drop table x'), [['spec.entities[0].fields[0].target', 'must match']]],
  ['a scratch size', (m) => (m.spec.runner = { scratch: { sizeLimit: '20Gi' } }), []],
  ['a scratch size that is no quantity', (m) => (m.spec.runner = { scratch: { sizeLimit: '20GB' } }), [['spec.runner.scratch.sizeLimit', 'must match']]],
  ['a scratch size of millibytes', (m) => (m.spec.runner = { scratch: { sizeLimit: '500m' } }), [['spec.runner.scratch.sizeLimit', 'must match']]],
  ['a scratch size of nothing', (m) => (m.spec.runner = { scratch: { sizeLimit: '0' } }), [['spec.runner.scratch.sizeLimit', 'must match']]],
  ['a bad timestamp in status', (m) => (m.status = { lastSyncTime: 'yesterday' }), [['status.lastSyncTime', 'must be a date-time']]],
  ['a missing name', (m) => delete m.metadata.name, [['metadata.name', 'required field is missing']]],
  ['an invalid name', (m) => (m.metadata.name = 'Association'), [['metadata.name', 'DNS-1123']]],
];

describe('checkManifestSchema', () => {
  it.each(cases)('%s', (_name, mutate, expected) => {
    const manifest = flow();
    mutate(manifest);
    const errors = checkManifestSchema(manifest);
    expect(errors.map((e) => e.path)).toEqual(expected.map(([path]) => path));
    errors.forEach((e, i) => expect(e.message).toContain(expected[i][1]));
  });

  it('does not fill defaults into the caller object', () => {
    const manifest = flow() as Mutable;
    checkManifestSchema(manifest);
    expect(manifest.spec.direction).toBeUndefined();
  });

  it('rejects objects of other kinds', () => {
    expect(checkManifestSchema({ apiVersion: 'v1', kind: 'ConfigMap' })).toEqual([{ path: 'kind', message: 'unknown kind "ConfigMap"' }]);
  });
});

describe('withStrictFields', () => {
  it('closes objects with properties and leaves maps open', () => {
    expect(
      withStrictFields({
        type: 'object',
        properties: { a: { type: 'object', additionalProperties: { type: 'string' } }, b: { type: 'array', items: { type: 'object', properties: {} } } },
      }),
    ).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: 'object', additionalProperties: { type: 'string' } },
        b: { type: 'array', items: { type: 'object', properties: {}, additionalProperties: false } },
      },
    });
  });
});

// The compile no longer checks a schema against the meta-schema (start-up time): this test does.
describe('crdSchemaErrors', () => {
  it.each(allCrds().map((crd) => crd.spec.names.kind))('finds the %s schema valid against the JSON Schema meta-schema', (kind) => {
    expect(crdSchemaErrors(kind)).toEqual([]);
  });

  it('reports a schema the meta-schema rejects', () => {
    expect(metaSchemaErrors({ type: 'object', properties: { a: { type: 'strin' as 'string' } } }).map((e) => e.instancePath)).toContain('/properties/a/type');
  });
});
