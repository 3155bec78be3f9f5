import { describe, expect, it } from 'vitest';
import { withEntityDefaults, withExportTargetDefaults, withFlowDefaults, type Entity, type SyncFlowSpec } from '../../../src/api/index.js';

const entity: Entity = {
  name: 'people',
  source: { table: 'people', keys: ['id'], conditions: [{ field: 'status', values: ['member'] }], archive: { column: 'archived' } },
  target: { table: 'contacts', keys: ['id'] },
  fields: [{ source: 'name', target: 'name' }],
};

describe('withEntityDefaults', () => {
  it('fills OneWay defaults', () => {
    const e = withEntityDefaults(entity, 'OneWay');
    expect(e.actions).toEqual(['link', 'createInTarget', 'updateTarget']);
    expect(e.conflictPolicy).toBe('SourceWins');
    expect(e.requires).toEqual([]);
    expect(e.related).toEqual([]);
    expect(e.source.conditions).toEqual([{ field: 'status', operator: 'In', values: ['member'] }]);
    expect(e.source.archive).toEqual({ column: 'archived', value: 'true' });
    expect(e.target.conditions).toEqual([]);
    expect(e.match).toBeUndefined();
  });

  it('fills TwoWay defaults and keeps explicit values', () => {
    expect(withEntityDefaults(entity, 'TwoWay')).toMatchObject({
      actions: ['link', 'createInTarget', 'createInSource', 'updateNewerWins'],
      conflictPolicy: 'NewerWins',
    });
    const explicit = withEntityDefaults(
      { ...entity, actions: ['link'], conflictPolicy: 'Manual', match: [{ source: 'a', target: 'b' }], related: [{ entity: 'x' }] },
      'TwoWay',
    );
    expect(explicit).toMatchObject({
      actions: ['link'],
      conflictPolicy: 'Manual',
      match: [{ source: 'a', target: 'b', normalize: 'None' }],
      related: [{ entity: 'x', includeRelated: true }],
    });
  });
});

describe('withFlowDefaults', () => {
  const spec = {
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { export: { format: 'Csv', mode: 'Snapshot', query: 'SELECT 1', targets: [{ name: 't' }] } },
    entities: [entity],
    scopes: [{ name: 's', entities: ['people'] }],
    schedules: [{ name: 'n', cron: '0 2 * * *', mode: 'Full' }],
  } as unknown as SyncFlowSpec; // direction omitted on purpose, as in a hand-written manifest

  it('fills every documented default without changing the input', () => {
    const copy = structuredClone(spec);
    const d = withFlowDefaults(spec);
    expect(spec).toEqual(copy);
    expect(d).toMatchObject({
      direction: 'OneWay',
      source: { postgres: { secretRef: { name: 'src', key: 'url' }, schema: 'public' } },
      target: { export: { compression: 'Gzip', csv: { header: true, delimiter: ',', quote: '"' } } },
      scopes: [{ name: 's', includeRelated: true, exclude: [] }],
      schedules: [{ name: 'n', timeZone: 'UTC', suspend: false }],
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 10,
      failedJobsHistoryLimit: 5,
      batchSize: 5000,
      loopProtection: { echoSuppression: true },
      suspend: false,
    });
    expect(d.entities[0].actions).toEqual(['link', 'createInTarget', 'updateTarget']);
  });

  it('passes the direction to entities', () => {
    expect(withFlowDefaults({ ...spec, direction: 'TwoWay' }).entities[0].conflictPolicy).toBe('NewerWins');
  });
});

describe('withExportTargetDefaults', () => {
  it('picks the port from the protocol', () => {
    const base = { host: 'h', credentialsSecretRef: { name: 'c' } };
    expect(withExportTargetDefaults({ ...base, protocol: 'SFTP' }).port).toBe(22);
    expect(withExportTargetDefaults({ ...base, protocol: 'FTPS-Implicit' }).port).toBe(990);
    expect(withExportTargetDefaults({ ...base, protocol: 'FTPS', port: 2121 })).toMatchObject({ port: 2121, probeIntervalSeconds: 300, insecure: false });
  });
});
