import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { renderTable } from '../../../src/engine/report.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox } from './files-source.js';

const logger = pino({ level: 'silent' });

/** The five columns `filesFlowSpec` maps, in file order, for files without a header row. */
const COLUMNS: FileSource['columns'] = [{ name: 'no' }, { name: 'name' }, { name: 'note' }, { name: 'salary', type: 'Decimal' }, { name: 'born', type: 'Date' }];

/**
 * How a file's columns are found: header-less files by both CSV readers (the byte scan's and
 * csv-parse, which reads what the scan cannot vouch for), a custom quote, a timestamp format, JSON
 * objects that leave keys out, and a rejected value's reason naming its column wherever it is shown.
 */
describe('files source: explicit columns, quote, timestamp format, JSON objects without some keys', () => {
  let targetUrl: string;
  let stateUrl: string;
  let flows = 0;

  async function flow(file: FileSource, extraFields: { source: string; target: string }[] = []) {
    const table = `people_${++flows}`;
    const flowId = `test/columns-${flows}`;
    const dir = await inbox();
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, salary numeric(10,2), born date, seen timestamptz, archived boolean NOT NULL DEFAULT false)`),
    );
    const spec = filesFlowSpec({ directory: dir, settleSeconds: 0 }, file);
    spec.entities[0]!.target.table = table;
    spec.entities[0]!.fields.push(...extraFields);
    const run = () => runSync({ flowId, spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger, files: { targets: {}, secrets: {} } });
    const rows = () => sqlRows(targetUrl, `SELECT employee_no, name, note, salary::text, born::text, seen FROM ${table} ORDER BY employee_no`);
    return { dir, run, rows, flowId };
  }

  beforeAll(async () => {
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_columns_dst'), freshDatabase('files_columns_state')]);
  }, 60_000);

  // The byte scan vouches for ';' and LF endings; a non-ASCII delimiter or mixed line ends leave it
  // unsure, and csv-parse reads the file: the columns must be the declared ones either way, and the
  // first line a record.
  const headerless: [string, string, string][] = [
    ['clean quoting (the byte scan)', ';', ['1;Ann;"a; b";3200.5;1980-02-01', '2;Ben;;;', '3;Cid;x'].join('\n')],
    ['a non-ASCII delimiter (csv-parse)', '§', ['1§Ann§"a; b"§3200.5§1980-02-01', '2§Ben§§§', '3§Cid§x'].join('\n')],
    ['mixed CRLF and LF endings (csv-parse)', ';', '1;Ann;"a; b";3200.5;1980-02-01\r\n2;Ben;;;\n3;Cid;x\n'],
  ];
  for (const [how, delimiter, text] of headerless) {
    it(`header: false with an explicit column list, read with ${how}: the first line is a record`, async () => {
      const { dir, run, rows } = await flow({ pattern: '*.csv', contents: 'Snapshot', csv: { delimiter, header: false }, columns: COLUMNS });
      await drop(dir, 'people.csv', Buffer.from(text));
      const report = await run();
      expect(report.status, report.error).toBe('Succeeded');
      expect((await rows()).map((r) => [r.employee_no, r.name, r.note, r.salary, r.born])).toEqual([
        ['1', 'Ann', 'a; b', '3200.50', '1980-02-01'],
        ['2', 'Ben', null, null, null],
      ]);
      expect(report.rejectedSamples.map((r) => r.reason)).toEqual(['people.csv line 3: 3 fields, expected 5']);
    }, 120_000);
  }

  for (const [how, end] of [
    ['clean quoting (the byte scan)', '\n'],
    ['mixed line ends (csv-parse)', '\r\n'],
  ] as const) {
    it(`a custom quote character ('), read with ${how}: it quotes delimiters and doubles itself; a double quote is plain text`, async () => {
      const { dir, run, rows } = await flow({ pattern: '*.csv', contents: 'Snapshot', csv: { delimiter: ';', quote: "'" } });
      const text = ['no;name;note;salary;born', "1;'O''Brien; Pat';'say \"hi\"';;", "2;Ben;'';;"].join(end) + `\n3;"Cid";'two\nlines';;\n`;
      await drop(dir, 'people.csv', Buffer.from(text));
      const report = await run();
      expect(report.rejectedSamples).toEqual([]);
      expect((await rows()).map((r) => [r.employee_no, r.name, r.note])).toEqual([
        ['1', "O'Brien; Pat", 'say "hi"'],
        ['2', 'Ben', ''],
        ['3', '"Cid"', 'two\nlines'],
      ]);
    }, 120_000);
  }

  it('timestampFormat reads Timestamp columns (as UTC); a value that does not fit is rejected naming its column in the report and in rejected_rows', async () => {
    const { dir, run, rows, flowId } = await flow(
      { pattern: '*.csv', contents: 'Snapshot', csv: { delimiter: ';' }, columns: [{ name: 'seen', type: 'Timestamp' }], timestampFormat: 'DD.MM.YYYY HH:mm' },
      [{ source: 'seen', target: 'seen' }],
    );
    const text = ['no;name;note;salary;born;seen', '1;Ann;;;;01.02.2026 08:30', '2;Ben;;;;2026-02-01 08:30', '3;Cid;;;;'].join('\n');
    await drop(dir, 'people.csv', Buffer.from(text));
    const report = await run();
    expect((await rows()).map((r) => [r.employee_no, (r.seen as Date | null)?.toISOString() ?? null])).toEqual([
      ['1', '2026-02-01T08:30:00.000Z'],
      ['3', null],
    ]);
    const reason = 'column seen: people.csv line 3: "2026-02-01 08:30" is not a timestamp in the format DD.MM.YYYY HH:mm';
    expect(report.rejectedSamples.map((r) => [r.key, r.reason])).toEqual([['2', reason]]);
    // As the user sees it: the run's table and the state database's rejected rows.
    expect(renderTable(report)).toContain(`employees 2: ${reason}`);
    const stored = await sqlRows(stateUrl, `SELECT r.source_key, r.reason FROM ferry.rejected_rows r JOIN ferry.runs u ON u.id = r.run_id WHERE u.flow = $1`, [flowId]);
    expect(stored).toEqual([{ source_key: '2', reason }]);
  }, 120_000);

  it('JSON Lines: a first object without a mapped field imports (NULL there); a later object without the key is rejected with its line, the run goes on', async () => {
    const { dir, run, rows } = await flow({ pattern: '*.jsonl', contents: 'Snapshot', format: 'JsonLines', columns: [{ name: 'born', type: 'Date' }] });
    const lines = [
      JSON.stringify({ no: 1, name: 'Ann' }),
      JSON.stringify({ no: 2, name: 'Ben', note: 'here', salary: 10, born: '1990-01-02' }),
      JSON.stringify({ name: 'Nobody', note: 'no key' }),
      JSON.stringify({ no: 4, note: null, extra: true }),
    ];
    await drop(dir, 'people.jsonl', Buffer.from(lines.join('\n') + '\n'));
    const report = await run();
    expect(report.status, report.error).toBe('Succeeded');
    expect((await rows()).map((r) => [r.employee_no, r.name, r.note, r.salary, r.born])).toEqual([
      ['1', 'Ann', null, null, null],
      ['2', 'Ben', 'here', '10.00', '1990-01-02'],
      ['4', null, null, null, null],
    ]);
    expect(report.rejectedSamples.map((r) => r.reason)).toEqual(['column no: people.jsonl line 3: missing key no']);
  }, 120_000);

  it('an older pending CSV file whose header lacks a column the spec reads: the run is refused naming it, nothing applied, both files left pending', async () => {
    const { dir, run, rows, flowId } = await flow({ pattern: 'changes-*.csv', contents: 'Delta' });
    // Read as it stood, the first file's people would get a null note (over whatever the target had).
    await drop(dir, 'changes-1.csv', Buffer.from('no,name,salary,born\n1,Ann,10,1980-01-01\n'));
    await drop(dir, 'changes-2.csv', Buffer.from('no,name,note,salary,born\n2,Ben,hi,20,1990-01-01\n'));
    await expect(run()).rejects.toThrow('entity employees: file changes-1.csv has no column "note" in its header (it names "no", "name", "salary", "born"), which the spec reads; nothing was applied');
    expect(await rows()).toEqual([]);
    const files = await sqlRows(stateUrl, `SELECT name, status FROM ferry.source_files WHERE flow = $1 ORDER BY name`, [flowId]);
    expect(files).toEqual([
      { name: 'changes-1.csv', status: 'pending' },
      { name: 'changes-2.csv', status: 'pending' },
    ]);
  }, 120_000);
});
