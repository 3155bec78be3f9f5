import { describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import { FILE_POSITION_COLUMN } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { filesErrors } from '../../../src/api/validate-files.js';

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

  it('refuses actions that write to the read-only files', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.actions = ['link', 'createInSource', 'updateNewerWins'];
    expect(errors(spec)).toEqual([
      'spec.direction: a files source cannot be one side of a two-way flow in this version (files are read-only); use OneWay',
      'spec.entities[0].actions: createInSource writes to the source, but a files source is read-only; list the actions without it',
      'spec.entities[0].actions: updateNewerWins writes to the source, but a files source is read-only; list the actions without it',
    ]);
  });

  it('refuses a two-way flow with a files source, naming spec.direction, as the run does', () => {
    const spec = base({ direction: 'TwoWay' });
    spec.entities![0]!.actions = ['link', 'createInTarget', 'updateTarget'];
    expect(errors(spec)).toEqual(['spec.direction: a files source cannot be one side of a two-way flow in this version (files are read-only); use OneWay']);
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
