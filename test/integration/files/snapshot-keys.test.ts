import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, TARGET_SQL } from './files-source.js';

const logger = pino({ level: 'silent' });

/** Employees 1..count, one per line from line 2 (line 1 is the header), with the given extra lines appended. */
function snapshot(count: number, extra: string[]): Buffer {
  const lines = ['no;name;note;salary;born'];
  for (let no = 1; no <= count; no++) lines.push(`${no};Person ${no};;;`);
  return Buffer.from([...lines, ...extra].join('\n'));
}

// The reader reads a file in pieces of 64 KiB of text and checks the keys of a piece or more at a time
// (2,000 rows at least): 60,000 rows (~1.2 MB) put repeats in the same chunk as their first line and
// several chunks later, and a row that cannot be read before a repeat in the same chunk.
// With the shipped budget the keys are checked in memory; with 4 KiB (about a hundred keys), by a key census of each file.
describe.each([{ budget: undefined }, { budget: 4096 }])('files source: a key repeated in one snapshot is rejected with its line and the first line, across chunks (key budget $budget)', ({ budget }) => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  const spec = () => {
    const s = filesFlowSpec({ directory: dir, settleSeconds: 0 }, { pattern: 'staff-*.csv', contents: 'Snapshot', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } });
    s.batchSize = 1000;
    return s;
  };
  const run = (mode: 'Full' | 'Incremental') => runSync({ flowId: 'test/snapshot-keys', spec: spec(), mode, sourceUrl: '', targetUrl, stateUrl, logger, files: { targets: {}, secrets: {}, ...(budget ? { keyMemoryBytes: budget } : {}) } });
  const names = (nos: string[]) => sqlRows(targetUrl, `SELECT employee_no, name FROM staff WHERE employee_no = ANY('{${nos.join(',')}}') ORDER BY employee_no`);

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_keys_dst'), freshDatabase('files_keys_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  it('Full: the first line of a key wins, later ones are rejected naming both lines; the run goes on', async () => {
    // Line 60002: no 3 again (its first line, 4, is many chunks back); line 60003: no 60000 (line
    // 60001, same chunk); line 60005 has too few fields; line 60006: no 60000 a third time (not the
    // chunk's last row: the file's last line, with no line end, comes as a chunk of its own).
    await drop(dir, 'staff-1.csv', snapshot(60_000, ['3;Impostor;;;', '60000;Twin;;;', '60001;Last;;;', 'short;row', '60000;Triplet;;;', '60002;Final;;;']));
    const report = await run('Full');
    expect(report.totals.read).toBe(60_006);
    expect(report.totals.rejected).toBe(4);
    const reasons = report.rejectedSamples.map((r) => r.reason).join('\n');
    expect(reasons).toMatch(/staff-1\.csv line 60002: duplicate key \(first at line 4\)/);
    expect(reasons).toMatch(/staff-1\.csv line 60003: duplicate key \(first at line 60001\)/);
    expect(reasons).toMatch(/staff-1\.csv line 60005: 2 fields, expected 5/);
    expect(reasons).toMatch(/staff-1\.csv line 60006: duplicate key \(first at line 60001\)/);
    expect(await names(['3', '60000', '60001'])).toEqual([
      { employee_no: '3', name: 'Person 3' },
      { employee_no: '60000', name: 'Person 60000' },
      { employee_no: '60001', name: 'Last' },
    ]);
    expect((await withClient(targetUrl, (c) => c.query('SELECT count(*)::int AS n FROM staff'))).rows[0].n).toBe(60_002);
  }, 120_000);

  it('Incremental of a new snapshot: the same check, and each file is checked on its own', async () => {
    // The keys of staff-1 do not count as repeats in staff-2.
    await drop(dir, 'staff-2.csv', snapshot(12_000, ['12001;Last again;;;', '7;Impostor;;;']));
    const report = await run('Incremental');
    expect(report.totals.rejected).toBe(1);
    expect(report.rejectedSamples.map((r) => r.reason).join('\n')).toMatch(/staff-2\.csv line 12003: duplicate key \(first at line 8\)/);
    expect(await names(['7', '12001'])).toEqual([
      { employee_no: '12001', name: 'Last again' },
      { employee_no: '7', name: 'Person 7' },
    ]);
  }, 120_000);
});
