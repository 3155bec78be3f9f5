import { describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { clusterFileStatuses } from '../../../src/cli/kubectl-ferry/files.js';
import { renderFileStatuses } from '../../../src/cli/files-table.js';
import { fileStatuses, type RecordedFile } from '../../../src/connectors/files/file-status.js';
import type { SourceFile } from '../../../src/data-api/objects.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 8, minute));
const record = (id: number, name: string, extra: Partial<RecordedFile> = {}): RecordedFile => ({
  id,
  entity: 'employees',
  name,
  sha256: 'ab'.repeat(32),
  size: 100 + id,
  modifiedAt: at(id),
  path: name,
  status: 'imported',
  reason: null,
  importedAt: at(30 + id),
  rows: 10 * id,
  ...extra,
});
const entities = [{ name: 'employees', pattern: 'employees-*.csv' }];

describe('fileStatuses', () => {
  it('without a listing (the cluster view): recorded files only, a re-import asked for on the newest record of the name', () => {
    const rows = fileStatuses(
      entities,
      [
        record(1, 'employees-1.csv', { path: 'processed/employees-1.csv' }),
        record(2, 'employees-2.csv', { status: 'failed', reason: 'signature required: the file is not signed', importedAt: null, rows: null }),
        record(3, 'employees-3.csv', { status: 'pending', importedAt: null, rows: null }),
        record(4, 'employees-1.csv', { sha256: 'cd'.repeat(32) }),
      ],
      undefined,
      ['employees-1.csv'],
    );
    expect(rows.map((r) => [r.name, r.status, r.detail])).toEqual([
      ['employees-1.csv', 'imported', 'moved to processed/employees-1.csv'],
      ['employees-2.csv', 'failed', 'signature required: the file is not signed'],
      ['employees-3.csv', 'pending', expect.stringMatching(/^taken by a run/)],
      ['employees-1.csv', 'reimport-requested', expect.stringMatching(/re-import was asked for/)],
    ]);
    expect(rows[0]).toMatchObject({ rows: 10, importedAt: at(31).toISOString(), size: 101 });
    expect(rows[1]).not.toHaveProperty('rows');
  });

  it('with a listing: unchanged, changed, new, still being written (temporary name or growing), other files left out', () => {
    const listing = {
      entries: [
        { name: 'employees-1.csv', size: 101, modifiedAt: at(1) },
        { name: 'employees-2.csv', size: 999, modifiedAt: at(50) },
        { name: 'employees-3.csv', size: 5, modifiedAt: at(51) },
        { name: 'employees-4.csv.filepart', size: 5, modifiedAt: at(52) },
        { name: 'employees-5.csv', size: 5, modifiedAt: at(53) },
        { name: 'payroll.pdf', size: 5, modifiedAt: at(54) },
        { name: 'notes.tmp', size: 5, modifiedAt: at(55) },
      ],
      changing: new Set(['employees-5.csv']),
    };
    const rows = fileStatuses(entities, [record(1, 'employees-1.csv'), record(2, 'employees-2.csv')], listing);
    expect(rows.map((r) => [r.name, r.status, r.detail])).toEqual([
      ['employees-1.csv', 'unchanged', 'still at the location, unchanged: runs skip it'],
      ['employees-2.csv', 'imported', ''],
      ['employees-2.csv', 'pending', expect.stringMatching(/^changed since it was recorded/)],
      ['employees-3.csv', 'pending', 'new: the next run imports it'],
      ['employees-4.csv.filepart', 'pending', 'still being written (temporary name)'],
      ['employees-5.csv', 'pending', expect.stringMatching(/^still being written \(size or time changed/)],
    ]);
  });
});

describe('kubectl ferry files (cluster view)', () => {
  const flow = {
    metadata: { name: 'payroll', namespace: 'hr' },
    spec: { source: { files: { directory: '/in' } }, entities: [{ name: 'employees', source: { table: 'employees', keys: ['no'], file: { pattern: 'employees-*.csv', contents: 'Snapshot' } } }] },
  } as unknown as SyncFlow;
  const file: SourceFile = {
    apiVersion: 'data.ferry.dev/v1alpha1',
    kind: 'SourceFile',
    metadata: { name: '7', namespace: 'hr' },
    flow: 'payroll',
    entity: 'employees',
    fileName: 'employees-1.csv',
    status: 'imported',
    size: 120,
    modifiedAt: at(1).toISOString(),
    sha256: 'ab'.repeat(32),
    path: 'employees-1.csv',
    rows: 42,
    firstSeenAt: at(2).toISOString(),
    importedAt: at(3).toISOString(),
  };
  const job = (phase: string | undefined): SyncJob => ({ metadata: { name: 'again' }, spec: { flowRef: { name: 'payroll' }, mode: 'Full', reimport: ['employees-1.csv'] }, ...(phase ? { status: { phase } } : {}) }) as SyncJob;

  it('a re-import counts as requested while its SyncJob has not ended', () => {
    expect(clusterFileStatuses(flow, [file], [job('Running')])[0]).toMatchObject({ status: 'reimport-requested', rows: 42 });
    expect(clusterFileStatuses(flow, [file], [job('Succeeded')])[0]).toMatchObject({ status: 'imported', rows: 42, importedAt: at(3).toISOString() });
  });

  it('refuses a flow without a files source and an unknown entity', () => {
    expect(() => clusterFileStatuses({ ...flow, spec: { ...flow.spec, source: { postgres: { secretRef: { name: 'x' } } } } } as SyncFlow, [], [])).toThrow(/has no files source/);
    expect(() => clusterFileStatuses(flow, [], [], 'nosuch')).toThrow(/no files entity "nosuch"/);
  });

  it('prints a table with the counts and the note', () => {
    const text = renderFileStatuses('payroll', clusterFileStatuses(flow, [file], []), 'table', 'recorded files only');
    expect(text).toMatch(/│ employees\s+│ employees-1\.csv\s+│ imported\s+│ 2026-11-30 08:03:00Z\s+│ 42\s+│ 120\s+│/);
    expect(text).toMatch(/imported: 1\nrecorded files only$/);
    expect(renderFileStatuses('payroll', [], 'table')).toBe('no files seen for SyncFlow payroll');
  });
});
