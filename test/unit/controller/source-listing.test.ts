import { describe, expect, it } from 'vitest';
import { checkManifestSchema } from '../../../src/api/schema-check.js';
import type { SyncFlow, SyncFlowSpec } from '../../../src/api/syncflow.js';
import { clusterFilesNote, clusterFileStatuses, listingOfStatus } from '../../../src/cli/kubectl-ferry/files.js';
import { sourceListingStatus } from '../../../src/controller/source-listing.js';
import type { SourceFile } from '../../../src/data-api/objects.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 8, minute));

const spec = {
  direction: 'OneWay',
  source: { files: { exportTargetRef: { name: 'partner-sftp' } } },
  target: { postgres: { secretRef: { name: 'dst' } } },
  entities: [
    {
      name: 'employees',
      source: { table: 'employees', keys: ['no'], file: { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$' } },
      target: { table: 'staff', keys: ['id'] },
      fields: [{ source: 'no', target: 'employee_no' }],
      match: [{ source: 'no', target: 'employee_no' }],
    },
    {
      name: 'departments',
      source: { table: 'departments', keys: ['code'], file: { pattern: 'departments.csv', contents: 'Snapshot' } },
      target: { table: 'departments', keys: ['id'] },
      fields: [{ source: 'code', target: 'code' }],
      match: [{ source: 'code', target: 'code' }],
    },
  ],
} as unknown as SyncFlowSpec;

// 25 deltas, numbered so that name order and apply order differ (changes-9 before changes-10).
const deltas = Array.from({ length: 25 }, (_, i) => ({ name: `changes-${i + 1}.csv`, size: 10 + i, modifiedAt: at(i) }));
const listing = {
  entries: [...deltas, { name: 'changes-26.csv.part', size: 3, modifiedAt: at(40) }, { name: 'departments.csv', size: 7, modifiedAt: at(41) }, { name: 'notes.txt', size: 1, modifiedAt: at(42) }],
  changing: new Set(['changes-25.csv']),
};

describe('status.sourceListing (sourceListingStatus)', () => {
  const status = sourceListingStatus(spec, listing, at(50));

  it('keeps the 20 newest files per entity in apply order, counts the rest, flags the ones still changing and leaves unrelated files out', () => {
    expect(status.listedAt).toBe(at(50).toISOString());
    const [employees, departments] = status.entities;
    expect(employees.name).toBe('employees');
    expect(employees.files.map((f) => f.name)).toEqual([...deltas.slice(6).map((d) => d.name), 'changes-26.csv.part']);
    expect(employees.more).toBe(6);
    expect(employees.files.find((f) => f.name === 'changes-25.csv')).toEqual({ name: 'changes-25.csv', size: 34, modifiedAt: at(24).toISOString(), changing: true });
    expect(employees.files.find((f) => f.name === 'changes-24.csv')).not.toHaveProperty('changing');
    expect(departments).toEqual({ name: 'departments', files: [{ name: 'departments.csv', size: 7, modifiedAt: at(41).toISOString() }] });
  });

  it('is valid against the CRD status schema (strict fields), and an entity with no file is listed empty', () => {
    const empty = sourceListingStatus(spec, { entries: [], changing: new Set() }, at(50));
    expect(empty.entities).toEqual([
      { name: 'employees', files: [] },
      { name: 'departments', files: [] },
    ]);
    for (const sourceListing of [status, empty]) {
      expect(checkManifestSchema({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec, status: { sourceListing } })).toEqual([]);
    }
    const extra = { ...status, entities: [{ ...status.entities[1], files: [{ ...status.entities[1].files[0], owner: 'root' }] }] };
    expect(checkManifestSchema({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec, status: { sourceListing: extra } })).not.toEqual([]);
  });

  it('bounds: a name longer than NAME_MAX is counted, not listed; entities after the first 20 are left out, and the note names them', () => {
    const long = `changes-${'9'.repeat(250)}.csv`;
    const withLong = sourceListingStatus(spec, { entries: [deltas[0], { name: long, size: 1, modifiedAt: at(1) }], changing: new Set() }, at(50));
    expect(withLong.entities[0]).toEqual({ name: 'employees', files: [{ name: 'changes-1.csv', size: 10, modifiedAt: at(0).toISOString() }], more: 1 });
    const many = { ...spec, entities: Array.from({ length: 22 }, (_, i) => ({ ...spec.entities[1], name: `table_${i}`, source: { ...spec.entities[1].source, file: { pattern: `t${i}.csv`, contents: 'Snapshot' } } })) } as SyncFlowSpec;
    const bounded = sourceListingStatus(many, { entries: [], changing: new Set() }, at(50));
    expect(bounded.entities.map((e) => e.name)).toEqual(Array.from({ length: 20 }, (_, i) => `table_${i}`));
    const flow = { metadata: { name: 'wide' }, spec: many, status: { sourceListing: bounded } } as unknown as SyncFlow;
    expect(clusterFilesNote(flow, at(50))).toMatch(/; entities not in the listing \(recorded files only\): table_20, table_21\)/);
    expect(clusterFilesNote(flow, at(50), 'table_3')).not.toMatch(/not in the listing/);
  });

  it('reads back as the listing it was built from, within the window', () => {
    const back = listingOfStatus(status);
    expect(back.entries).toHaveLength(21);
    expect(back.entries).toContainEqual(deltas[24]);
    expect([...back.changing]).toEqual(['changes-25.csv']);
  });
});

describe('kubectl ferry files: the recorded files joined with the listing', () => {
  const sourceFile = (id: number, name: string, extra: Partial<SourceFile> = {}): SourceFile => ({
    apiVersion: 'data.ferry.dev/v1alpha1',
    kind: 'SourceFile',
    metadata: { name: String(id), namespace: 'hr' },
    flow: 'payroll',
    entity: 'employees',
    fileName: name,
    status: 'imported',
    size: 10 + id - 1,
    modifiedAt: at(id - 1).toISOString(),
    sha256: 'ab'.repeat(32),
    path: name,
    rows: 2,
    firstSeenAt: at(45).toISOString(),
    importedAt: at(46).toISOString(),
    ...extra,
  });
  const small = sourceListingStatus(
    spec,
    {
      entries: [deltas[0], deltas[1], deltas[2], { name: 'changes-4.csv', size: 99, modifiedAt: at(44) }, { name: 'changes-5.csv.part', size: 1, modifiedAt: at(45) }],
      changing: new Set(['changes-4.csv']),
    },
    at(50),
  );
  const flow = { metadata: { name: 'payroll', namespace: 'hr' }, spec, status: { sourceListing: small } } as unknown as SyncFlow;

  it('pending files from the listing; recorded ones imported or unchanged; a file moved after the listing is not pending again', () => {
    const files = [sourceFile(1, 'changes-1.csv'), sourceFile(2, 'changes-2.csv', { path: 'processed/changes-2.csv' })];
    const rows = clusterFileStatuses(flow, files, [], 'employees');
    expect(rows.map((r) => [r.name, r.status, r.detail])).toEqual([
      ['changes-1.csv', 'unchanged', 'still at the location, unchanged: runs skip it'],
      ['changes-2.csv', 'imported', 'moved to processed/changes-2.csv'],
      ['changes-3.csv', 'pending', 'new: the next run imports it'],
      ['changes-4.csv', 'pending', expect.stringMatching(/^still being written \(size or time changed/)],
      ['changes-5.csv.part', 'pending', 'still being written (temporary name)'],
    ]);
    expect(rows[2]).toMatchObject({ size: 12, modifiedAt: at(2).toISOString() });
    expect(rows[2]).not.toHaveProperty('importedAt');
  });

  it("the note gives the listing's age and what it leaves out, or why there is no listing", () => {
    expect(clusterFilesNote(flow, at(55))).toBe(
      `location listed by the controller's read probe at ${at(50).toISOString()} (5m0s ago; the newest 20 files per entity); recorded files from the state database`,
    );
    const big = { ...flow, status: { sourceListing: sourceListingStatus(spec, listing, at(50)) } } as SyncFlow;
    expect(clusterFilesNote(big, at(50))).toMatch(/\(0s ago; the newest 20 files per entity; 6 older matching files not in the listing\)/);
    expect(clusterFilesNote(big, at(50), 'departments')).toMatch(/\(0s ago; the newest 20 files per entity\)/);
    const unlisted = { ...flow, status: {} } as SyncFlow;
    expect(clusterFilesNote(unlisted, at(55))).toMatch(/^recorded files only: the controller's read probe has not listed the location of ExportTarget partner-sftp yet/);
    expect(clusterFileStatuses(unlisted, [], [])).toEqual([]);
    const onVolume = { ...unlisted, spec: { ...spec, source: { files: { directory: '/in', volumeClaim: { name: 'inbox' } } } } } as SyncFlow;
    expect(clusterFilesNote(onVolume, at(55))).toMatch(/^recorded files only: the source is a directory on a volume only a SyncJob's pod mounts/);
  });
});
