import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL, zipOf, zipOfFiles } from './files-source.js';

const FILE: FileSource = {
  pattern: 'employees-*',
  contents: 'Snapshot',
  orderCapture: '-(\\d+)\\.',
  csv: { delimiter: ';', decimalSeparator: ',' },
  columns: [
    { name: 'salary', type: 'Decimal' },
    { name: 'born', type: 'Date' },
  ],
  dateFormat: 'DD.MM.YYYY',
};

const csv = (...lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n') + '\n');

describe('files source: adversarial input, end to end', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;

  const run = (mode: 'Full' | 'Incremental', file: FileSource = FILE) =>
    runFilesFlow({ flowId: 'test/input-edges', spec: filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }, file), mode, targetUrl, stateUrl });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name, salary::text, born::text FROM staff ORDER BY employee_no')).map((r) => Object.values(r).join('|'));
  const refused = async (mode: 'Full' | 'Incremental', name: string, reason: RegExp) => {
    const failure = await run(mode).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as Error).message).toMatch(new RegExp(`${name.replace(/\./g, '\\.')} .*cannot be imported: ${reason.source}.*nothing from it was applied`));
    expect(existsSync(join(dir, 'failed', name))).toBe(true);
  };

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_edges_dst'), freshDatabase('files_edges_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  it('a snapshot with rejected lines: invalid UTF-8, 29 February of a year that is no leap year, grouped or malformed numbers; the good lines are applied', async () => {
    await drop(
      dir,
      'employees-1.csv',
      Buffer.concat([
        csv('1;Ann;;-3,5;29.02.2024', '2;Ben;;1234,50;31.12.1999', '3;Cid;;;29.02.2023', '4;Dee;;1.234,50;', '5;Eve;;12,3,4;', '6;Fay;;;31.04.2020'),
        Buffer.from('7;Gu'),
        Buffer.from([0xdf]),
        Buffer.from(';;;\n8;Hal;;;\n'),
      ]),
    );
    const report = await run('Full');
    expect(report.rejectedSamples.map((r) => r.reason).sort()).toEqual([
      'column born: employees-1.csv line 4: "29.02.2023" is not a date in the format DD.MM.YYYY',
      'column born: employees-1.csv line 7: "31.04.2020" is not a date in the format DD.MM.YYYY',
      'column salary: employees-1.csv line 5: "1.234,50" is not a decimal number (separator ",")',
      'column salary: employees-1.csv line 6: "12,3,4" is not a decimal number (separator ",")',
      'employees-1.csv line 8: not valid UTF-8 (column name)',
    ]);
    expect(await staff()).toEqual(['1|Ann|-3.50|2024-02-29', '2|Ben|1234.50|1999-12-31', '8|Hal||']);
  }, 120_000);

  it('an empty snapshot file (an export that failed) is refused: the records stay instead of being deleted', async () => {
    await drop(dir, 'employees-2.csv', Buffer.alloc(0));
    await refused('Full', 'employees-2.csv', /the file is empty: no header row/);
    await drop(dir, 'employees-3.csv', Buffer.from('\n\n'));
    await refused('Full', 'employees-3.csv', /the file is empty: no header row/);
    expect(await staff()).toEqual(['1|Ann|-3.50|2024-02-29', '2|Ben|1234.50|1999-12-31', '8|Hal||']);
  }, 120_000);

  it('a zip archive of two files is refused naming them; a zip of one file is read', async () => {
    await drop(dir, 'employees-4.zip', zipOfFiles([['a.csv', csv('1;Ann;;;')], ['b.csv', csv('9;Ivy;;;')]]));
    await refused('Full', 'employees-4.zip', /the zip archive holds 2 files \(a\.csv, b\.csv\); it must hold one/);
    await drop(dir, 'employees-5.zip', zipOf('employees.csv', csv('1;Ann;;;', '9;Ivy;;;')));
    await run('Full');
    expect(await staff()).toEqual(['1|Ann||', '9|Ivy||']);
  }, 120_000);

  it('a header-only snapshot is refused; with allowEmptySnapshot it is an empty table: a Full run deletes the records', async () => {
    await drop(dir, 'employees-6.csv', csv());
    await refused('Full', 'employees-6.csv', /it holds no records/);
    expect(await staff()).toEqual(['1|Ann||', '9|Ivy||']);
    await drop(dir, 'employees-7.csv', csv());
    const report = await run('Full', { ...FILE, allowEmptySnapshot: true });
    expect(report.entities[0]!.deleted).toBe(2);
    expect(await staff()).toEqual([]);
  }, 120_000);
});
