import { describe, expect, it } from 'vitest';
import { validateSyncFlow, type SyncFlow } from '../../src/api/index.js';

function flowWith(values: string[], side: 'source' | 'target' = 'source'): SyncFlow {
  const conditions = [{ field: 'status', values }];
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'nul' },
    spec: {
      direction: 'OneWay',
      source: { postgres: { secretRef: { name: 'src' } } },
      target: { postgres: { secretRef: { name: 'dst' } } },
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], ...(side === 'source' ? { conditions } : {}) },
          target: { table: 'contacts', keys: ['id'], ...(side === 'target' ? { conditions } : {}) },
          fields: [{ source: 'name', target: 'name' }],
        },
      ],
    },
  } as SyncFlow;
}

describe('a NUL byte in a condition value', () => {
  it.each(['source', 'target'] as const)('is refused by the validator with the field path (%s side)', (side) => {
    const errors = validateSyncFlow(flowWith(['Open', 'Clo\u0000sed'], side));
    expect(errors).toContainEqual({ path: `spec.entities[0].${side}.conditions[0].values[1]`, message: expect.stringMatching(/NUL/) });
  });

  it('ordinary values pass', () => {
    expect(validateSyncFlow(flowWith(['Open', 'Closed']))).toEqual([]);
  });
});
