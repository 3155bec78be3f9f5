/**
 * `ferry files` and `kubectl ferry files` for a flow with thousands of files: the newest files per
 * entity are printed, with how many older ones were left out and how to see them; the counts cover
 * every file.
 */
import { describe, expect, it } from 'vitest';
import type { FileStatusRow } from '../../../src/connectors/files/file-status.js';
import { DEFAULT_FILES_LIMIT, renderFileStatuses } from '../../../src/cli/files-table.js';

const row = (entity: string, i: number, status: FileStatusRow['status'] = 'imported'): FileStatusRow => ({
  entity,
  name: `${entity}-${String(i).padStart(5, '0')}.csv`,
  status,
  detail: status === 'failed' ? 'bad signature' : '',
  size: 100,
  modifiedAt: '2026-01-01T00:00:00.000Z',
});

const rows = (entity: string, n: number) => Array.from({ length: n }, (_, i) => row(entity, i));

describe('files listings stay bounded', () => {
  it('prints the newest files of each entity and says how many older ones it left out', () => {
    const all = [...rows('employees', 5000), row('employees', 5000, 'pending'), ...rows('teams', 3)];
    const text = renderFileStatuses('payroll', all, 'table');
    expect(text.split('\n').length).toBeLessThan(4 * (DEFAULT_FILES_LIMIT + 10));
    expect(text).toContain('employees-05000.csv'); // the pending one, last
    expect(text).toContain(`employees-${String(5001 - DEFAULT_FILES_LIMIT).padStart(5, '0')}.csv`);
    expect(text).not.toContain(`employees-${String(5000 - DEFAULT_FILES_LIMIT).padStart(5, '0')}.csv`);
    expect(text).toContain('teams-00000.csv');
    expect(text).toContain(`employees: ${5001 - DEFAULT_FILES_LIMIT} more, older files not shown (--limit N shows N per entity, --limit 0 all; --status filters)`);
    expect(text).toContain('imported: 5003, pending: 1');
  });

  it('json and yaml are bounded the same way, with the number left out per entity', () => {
    const all = rows('employees', 3000);
    const json = JSON.parse(renderFileStatuses('payroll', all, 'json', 'note')) as { files: FileStatusRow[]; more: Record<string, number>; counts: Record<string, number> };
    expect(json.files).toHaveLength(DEFAULT_FILES_LIMIT);
    expect(json.more).toEqual({ employees: 3000 - DEFAULT_FILES_LIMIT });
    expect(json.counts).toEqual({ imported: 3000 });
    expect(renderFileStatuses('payroll', all, 'yaml')).toContain(`employees: ${3000 - DEFAULT_FILES_LIMIT}`);
  });

  it('--limit 0 prints every file; --limit 2 two per entity; --status keeps one state', () => {
    const all = [...rows('employees', 120), row('employees', 7, 'failed')];
    expect((JSON.parse(renderFileStatuses('payroll', all, 'json', undefined, { limit: 0 })) as { files: unknown[] }).files).toHaveLength(121);
    const two = JSON.parse(renderFileStatuses('payroll', all, 'json', undefined, { limit: 2 })) as { files: FileStatusRow[]; more: Record<string, number> };
    expect(two.files.map((f) => f.name)).toEqual(['employees-00119.csv', 'employees-00007.csv']);
    expect(two.more).toEqual({ employees: 119 });
    const failed = renderFileStatuses('payroll', all, 'table', undefined, { status: 'failed' });
    expect(failed).toContain('bad signature');
    expect(failed).not.toContain('employees-00119.csv');
    expect(failed).toContain('failed: 1 (of 121 files)');
  });
});
