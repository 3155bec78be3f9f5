import { describe, expect, it } from 'vitest';
import type { SyncFlow, SyncFlowSpec } from '../../../src/api/syncflow.js';
import { checkManifestSchema } from '../../../src/api/index.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';

const flow = (file: Record<string, unknown>): SyncFlow =>
  ({
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'staff' },
    spec: {
      direction: 'OneWay',
      source: { files: { directory: '/inbox' } },
      target: { postgres: { secretRef: { name: 'dst' } } },
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['no'], file: { pattern: '*.csv', ...file } },
          target: { table: 'people', keys: ['id'] },
          fields: [{ source: 'name', target: 'name' }],
          actions: ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'],
        },
      ],
    } as unknown as SyncFlowSpec,
  }) as SyncFlow;

const errors = (file: Record<string, unknown>) => validateSyncFlow(flow(file)).map((e) => `${e.path}: ${e.message}`);

describe('file.allowEmptySnapshot', () => {
  it('is an optional boolean of a snapshot file', () => {
    expect(errors({ contents: 'Snapshot' })).toEqual([]);
    expect(errors({ contents: 'Snapshot', allowEmptySnapshot: true })).toEqual([]);
    expect(errors({ contents: 'Snapshot', allowEmptySnapshot: false })).toEqual([]);
  });

  it('is in the CRD schema as a boolean: true passes, a string or a misspelling is refused', () => {
    const schemaErrors = (file: Record<string, unknown>) => checkManifestSchema(flow(file)).map((e) => `${e.path}: ${e.message}`);
    expect(schemaErrors({ contents: 'Snapshot', allowEmptySnapshot: true })).toEqual([]);
    expect(schemaErrors({ contents: 'Snapshot', allowEmptySnapshot: 'yes' })).toEqual(['spec.entities[0].source.file.allowEmptySnapshot: must be boolean, got "yes"']);
    expect(schemaErrors({ contents: 'Snapshot', allowEmptySnapshots: true })).toEqual([
      'spec.entities[0].source.file.allowEmptySnapshots: unknown field "allowEmptySnapshots" (did you mean "allowEmptySnapshot"?)',
    ]);
  });

  it('is refused on delta files, which have no empty table to mean', () => {
    expect(errors({ contents: 'Delta', allowEmptySnapshot: true })).toEqual(['spec.entities[0].source.file.allowEmptySnapshot: only used with contents: Snapshot']);
  });
});
