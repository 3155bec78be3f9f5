import { describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import { FILE_POSITION_COLUMN } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { filesErrors } from '../../../src/api/validate-files.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';

const base = (overrides: Partial<SyncFlowSpec> = {}, file: Record<string, unknown> = { pattern: '*.csv', contents: 'Snapshot' }): SyncFlowSpec =>
  ({
    direction: 'OneWay',
    source: { files: { directory: '/inbox' } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    entities: [
      {
        name: 'people',
        source: { table: 'people', keys: ['no'], file },
        target: { table: 'people', keys: ['id'] },
        fields: [{ source: 'name', target: 'name' }],
        actions: ['link', 'createInTarget', 'updateTarget'],
      },
    ],
    ...overrides,
  }) as SyncFlowSpec;

const errors = (spec: SyncFlowSpec) => filesErrors(withFlowDefaults(spec), spec).map((e) => `${e.path}: ${e.message}`);

describe('files source validation', () => {
  it('accepts a plain snapshot flow, whose cursor is the file position', () => {
    expect(errors(base())).toEqual([]);
    expect(withFlowDefaults(base()).entities[0]!.source.updatedAt).toBe(FILE_POSITION_COLUMN);
  });

  it('refuses each action that writes to the read-only files, naming its place in the list', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.actions = ['link', 'createInSource', 'updateNewerWins', 'updateTarget', 'updateSource', 'archiveInSource', 'deleteInSource', 'deleteInTarget'];
    spec.entities![0]!.source.archive = { column: 'gone' };
    expect(errors(spec)).toEqual([
      'spec.entities[0].actions[1]: createInSource writes to the source, but a files source is read-only; list the actions without it',
      'spec.entities[0].actions[2]: updateNewerWins writes to the source, but a files source is read-only; list the actions without it',
      'spec.entities[0].actions[4]: updateSource writes to the source, but a files source is read-only; list the actions without it',
      'spec.entities[0].actions[5]: archiveInSource writes to the source, but a files source is read-only; list the actions without it',
      'spec.entities[0].actions[6]: deleteInSource writes to the source, but a files source is read-only; list the actions without it',
    ]);
  });

  it('accepts a two-way flow with a files source whose actions and policies never write to the files', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.actions = ['link', 'createInTarget', 'updateTarget', 'archiveInTarget', 'deleteInTarget'];
    spec.entities![0]!.conflictPolicy = 'Manual';
    spec.entities![0]!.fields = [{ source: 'name', target: 'name', conflictPolicy: 'SourceWins' }];
    expect(errors(spec)).toEqual([]);
  });

  it('gives a two-way files entity defaults that never write to the files: OneWay actions, SourceWins', () => {
    const spec = base({ direction: 'TwoWay' });
    delete spec.entities![0]!.actions;
    const entity = withFlowDefaults(spec).entities[0]!;
    expect(entity.actions).toEqual(['link', 'createInTarget', 'updateTarget']);
    expect(entity.conflictPolicy).toBe('SourceWins');
    expect(errors(spec)).toEqual([]);
  });

  it('passes the whole flow validator as a two-way flow, with a value map that does not map back', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.target.updatedAt = 'changed_at';
    spec.entities![0]!.match = [{ source: 'email', target: 'email', normalize: 'LowerTrim' }];
    spec.entities![0]!.fields = [
      { source: 'name', target: 'name' },
      { source: 'grade', target: 'grade', valueMap: { entries: [{ source: 'A', target: 'senior' }, { source: 'B', target: 'senior' }] } },
    ];
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'staff' }, spec } as SyncFlow;
    expect(validateSyncFlow(flow).map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  });

  it('refuses conflict policies that could write the database value into the files, per entity and per field', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.conflictPolicy = 'NewerWins';
    spec.entities![0]!.fields = [
      { source: 'name', target: 'name', conflictPolicy: 'Manual' },
      { source: 'email', target: 'email', conflictPolicy: 'TargetWins' },
    ];
    const why = 'could pick the target\'s value and write it into the files, which are read-only; use SourceWins (the file\'s value goes to the database) or Manual';
    expect(errors(spec)).toEqual([`spec.entities[0].conflictPolicy: NewerWins ${why}`, `spec.entities[0].fields[1].conflictPolicy: TargetWins ${why}`]);
    spec.entities![0]!.conflictPolicy = 'TargetWins';
    expect(errors(spec)[0]).toBe(`spec.entities[0].conflictPolicy: TargetWins ${why}`);
  });

  it('accepts delta files (with a deletion marker) on the files side of a two-way flow, as in a one-way flow', () => {
    const delta = { pattern: '*.csv', contents: 'Delta', deletedWhen: { column: 'op', values: ['D'] } };
    expect(errors(base({ direction: 'TwoWay' }, delta))).toEqual([]);
    expect(errors(base({}, delta))).toEqual([]);
  });

  it('refuses volumeClaim without directory', () => {
    expect(errors(base({ source: { files: { exportTargetRef: { name: 'sftp' }, volumeClaim: { name: 'drop' } } } } as Partial<SyncFlowSpec>))).toEqual([
      'spec.source.files.volumeClaim: only used with directory',
    ]);
  });

  it('names the missing file block, a headerless CSV without columns, a bad order capture and deletedWhen on a snapshot', () => {
    const noFile = base();
    delete (noFile.entities![0]!.source as { file?: unknown }).file;
    expect(errors(noFile)).toEqual(['spec.entities[0].source.file: required: spec.source is files, so this side names the files that hold the entity']);
    expect(
      errors(base({}, { pattern: '*.csv', contents: 'Snapshot', csv: { header: false }, orderCapture: '\\d+', deletedWhen: { column: 'op', values: ['D'] } })),
    ).toEqual([
      'spec.entities[0].source.file.deletedWhen: only used with contents: Delta',
      'spec.entities[0].source.file.orderCapture: needs a capturing group: the part of the name to order by',
      'spec.entities[0].source.file.columns: required when csv.header is false: the columns in file order',
    ]);
  });

  it('refuses updatedAt on a files source and a file block elsewhere', () => {
    const spec = base();
    spec.entities![0]!.source.updatedAt = 'changed';
    spec.entities![0]!.target.file = { pattern: '*.csv', contents: 'Snapshot' };
    expect(errors(spec)).toEqual([
      'spec.entities[0].target.file: files are a source only',
      `spec.entities[0].source.updatedAt: not used on a files source: changes are ordered by the files themselves (${FILE_POSITION_COLUMN})`,
    ]);
  });
});
