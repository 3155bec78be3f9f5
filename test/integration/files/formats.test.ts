import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SideCondition, ValueMap } from '../../../src/api/entity.js';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, zipOf } from './files-source.js';

const logger = pino({ level: 'silent' });

const HEADER = 'no;name;note;salary;born';
const csv = (...lines: string[]) => [HEADER, ...lines].join('\n');

/** One flow per case: its own inbox and target table, one shared target and state database. */
describe('files source: delta files in order, JSON Lines, zip, ISO-8859-1, UTF-8 with BOM, order by modification time', () => {
  let targetUrl: string;
  let stateUrl: string;
  let flows = 0;

  async function flow(file: FileSource, conditions?: SideCondition[], noteMap?: ValueMap) {
    const table = `staff_${++flows}`;
    const dir = await inbox();
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, salary numeric(10,2), born date, archived boolean NOT NULL DEFAULT false)`),
    );
    const spec = filesFlowSpec({ directory: dir, settleSeconds: 0 }, file);
    spec.entities[0]!.target.table = table;
    if (conditions) spec.entities[0]!.source.conditions = conditions;
    if (noteMap) spec.entities[0]!.fields.find((f) => f.source === 'note')!.valueMap = noteMap;
    const run = (mode: 'Full' | 'Incremental') =>
      runSync({ flowId: `test/formats-${flows}`, spec, mode, sourceUrl: '', targetUrl, stateUrl, logger, files: { targets: {}, secrets: {} } });
    const rows = () => sqlRows(targetUrl, `SELECT employee_no, name, note, salary::text, born::text FROM ${table} ORDER BY employee_no`);
    return { dir, run, rows };
  }

  beforeAll(async () => {
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_formats_dst'), freshDatabase('files_formats_state')]);
  }, 60_000);

  it('delta files apply in the order of their sequence number (2 before 10), also when a Full run reads them; absence is no deletion', async () => {
    const { dir, run, rows } = await flow({ pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } });
    // Dropped together; by name "10" would sort before "2".
    await drop(dir, 'changes-10.csv', Buffer.from(csv('1;Ann (10);;;', '3;Cid;;;')));
    await drop(dir, 'changes-2.csv', Buffer.from(csv('1;Ann (2);;;', '2;Ben;;;')));
    await drop(dir, 'changes-1.csv', Buffer.from(csv('1;Ann (1);;;')));
    const first = await run('Incremental');
    expect(first.totals.read).toBe(5);
    // Ann's three changes meet in one batch (batchSize 2): the later change supersedes, nothing is rejected.
    expect(first.rejectedSamples).toEqual([]);
    expect((await rows()).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann (10)'],
      ['2', 'Ben'],
      ['3', 'Cid'],
    ]);
    // A Full run of delta files reads only the new file: Ben and Cid are absent from it but stay.
    await drop(dir, 'changes-11.csv', Buffer.from(csv('2;Ben (11);;;')));
    const full = await run('Full');
    expect(full.totals.read).toBe(1);
    expect(full.entities[0]!.deleted).toBe(0);
    expect((await rows()).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann (10)'],
      ['2', 'Ben (11)'],
      ['3', 'Cid'],
    ]);
    expect((await run('Incremental')).totals.read).toBe(0);
  }, 120_000);

  it('deletion markers in delta files: a row marked deleted deletes its record, also when it is recreated later', async () => {
    const { dir, run, rows } = await flow({
      pattern: 'ops-*.csv',
      contents: 'Delta',
      orderCapture: '-(\\d+)\\.csv$',
      csv: { delimiter: ';' },
      deletedWhen: { column: 'op', values: ['D', 'X'] },
    });
    const ops = (...lines: string[]) => ['op;no;name;note;salary;born', ...lines].join('\n');
    await drop(dir, 'ops-1.csv', Buffer.from(ops('I;1;Ann;;;', 'I;2;Ben;;;', 'I;3;Cid;;;', 'I;4;Dee;;;', 'I;5;Eve;;;')));
    await run('Incremental');
    // Batches of 2: [Ben deleted, Dee updated], [Cid deleted and created again], [Eve updated and deleted], [Dee deleted].
    await drop(dir, 'ops-2.csv', Buffer.from(ops('D;2;;;;', 'U;4;Dee Two;;;', 'X;3;;;;', 'I;3;Cid again;;;', 'U;5;Eve Two;;;', 'D;5;;;;', 'D;4;;;;')));
    const report = await run('Incremental');
    expect(report.rejectedSamples).toEqual([]);
    expect((await rows()).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann'],
      ['3', 'Cid again'],
    ]);
    expect(report.entities[0]!.deleted).toBe(3);
    // A deletion of a record never imported changes nothing.
    await drop(dir, 'ops-3.csv', Buffer.from(ops('D;9;;;;')));
    expect((await run('Incremental')).entities[0]!.deleted).toBe(0);
    expect((await rows()).map((r) => r.employee_no)).toEqual(['1', '3']);
  }, 120_000);

  it('delta files ordered by modification time, whatever their names', async () => {
    const { dir, run, rows } = await flow({ pattern: 'delta-*.csv', contents: 'Delta', orderBy: 'Modified', csv: { delimiter: ';' } });
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 8, minute));
    const files: [string, string, number][] = [
      ['delta-a.csv', '1;third;;;', 30],
      ['delta-b.csv', '1;first;;;', 10],
      ['delta-c.csv', '1;second;;;', 20],
    ];
    for (const [name, line, minute] of files) {
      await drop(dir, name, Buffer.from(csv(line)));
      await utimes(join(dir, name), at(minute), at(minute));
    }
    await run('Incremental');
    expect((await rows()).map((r) => r.name)).toEqual(['third']);
  }, 120_000);

  it('JSON Lines: typed values, nested values as JSON text, a line that is not JSON rejected with its line', async () => {
    const { dir, run, rows } = await flow({ pattern: '*.jsonl', contents: 'Snapshot', format: 'JsonLines', columns: [{ name: 'salary', type: 'Decimal' }, { name: 'born', type: 'Date' }] });
    const lines = [
      JSON.stringify({ no: 1, name: 'Zoë', note: { team: 'north', tags: ['a'] }, salary: 3200.5, born: '1980-02-01' }),
      '',
      '{"no": 2, "name": "broken"',
      JSON.stringify({ no: 3, name: 'Ana', note: null, salary: '2800', born: null }),
    ];
    await drop(dir, 'people.jsonl', Buffer.from(lines.join('\n') + '\n'));
    const report = await run('Full');
    expect(await rows()).toEqual([
      { employee_no: '1', name: 'Zoë', note: '{"team":"north","tags":["a"]}', salary: '3200.50', born: '1980-02-01' },
      { employee_no: '3', name: 'Ana', note: null, salary: '2800.00', born: null },
    ]);
    expect(report.rejectedSamples.map((r) => r.reason).join('\n')).toMatch(/people\.jsonl line 3: not JSON/);
  }, 120_000);

  it('a zip archive (its first file), ISO-8859-1 text', async () => {
    const { dir, run, rows } = await flow({ pattern: '*.zip', contents: 'Snapshot', csv: { delimiter: ';', encoding: 'ISO-8859-1' } });
    await drop(dir, 'export.zip', zipOf('employees.csv', iconv.encode(csv('1;Søren Ærø;«café»;;', '2;Ñúñez;;;'), 'latin1')));
    await run('Full');
    expect((await rows()).map((r) => [r.employee_no, r.name, r.note])).toEqual([
      ['1', 'Søren Ærø', '«café»'],
      ['2', 'Ñúñez', null],
    ]);
  }, 120_000);

  it('UTF-8 with a byte order mark: the first column keeps its name', async () => {
    const { dir, run, rows } = await flow({ pattern: '*.csv', contents: 'Snapshot', csv: { delimiter: ';', encoding: 'UTF-8-BOM' } });
    await drop(dir, 'bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv('1;Łukasz;日本;;'))]));
    const report = await run('Full');
    expect(report.rejectedSamples).toEqual([]);
    expect((await rows()).map((r) => [r.employee_no, r.name, r.note])).toEqual([['1', 'Łukasz', '日本']]);
  }, 120_000);

  it('a Contains condition on a delimited column takes a row whose list holds the value, not one that only looks alike', async () => {
    const { dir, run, rows } = await flow({ pattern: 'staff-*.csv', contents: 'Snapshot', csv: { delimiter: ';' } }, [{ field: 'note', operator: 'Contains', values: ['board'], separator: ',' }]);
    await drop(dir, 'staff-1.csv', Buffer.from(csv('1;Ann;cleaning, board;;', '2;Ben;cleaning;;', '3;Cid;boardroom;;', '4;Dee;board;;')));
    const report = await run('Full');
    expect(report.status, report.error).toBe('Succeeded');
    expect((await rows()).map((r) => r.employee_no)).toEqual(['1', '4']);
  }, 120_000);

  it('a value map translates a column; a value it does not list rejects the row with the value named (unmapped: Reject)', async () => {
    const map: ValueMap = { entries: [{ source: 'Member', target: '150: Members' }, { source: 'Guest', target: '160: Guests' }], unmapped: 'Reject' };
    const { dir, run, rows } = await flow({ pattern: 'people-*.csv', contents: 'Snapshot', csv: { delimiter: ';' } }, undefined, map);
    await drop(dir, 'people-1.csv', Buffer.from(csv('1;Ann;Member;;', '2;Ben;Guest;;', '3;Cid;Sponsor;;', '4;Dee;;;')));
    const report = await run('Full');
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.rejectedSamples.map((r) => [r.key, r.reason])).toEqual([['3', 'field note: the value "Sponsor" is not in its value map']]);
    expect((await rows()).map((r) => [r.employee_no, r.note])).toEqual([
      ['1', '150: Members'],
      ['2', '160: Guests'],
      ['4', null],
    ]);
  }, 120_000);
});
