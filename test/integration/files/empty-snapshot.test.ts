import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL } from './files-source.js';

const HEADER = 'no;name;note;salary;born';
const CSV: FileSource = { pattern: 'employees-*.csv', contents: 'Snapshot', csv: { delimiter: ';' } };
const JSON_LINES: FileSource = { pattern: 'employees-*.jsonl', contents: 'Snapshot', format: 'JsonLines' };
const NO_HEADER: FileSource = {
  pattern: 'employees-*.csv',
  contents: 'Snapshot',
  csv: { delimiter: ';', header: false },
  columns: ['no', 'name', 'note', 'salary', 'born'].map((name) => ({ name })),
};

const ADVICE = /, so as a snapshot it would delete every record; set source\.file\.allowEmptySnapshot: true if an empty file is meant/;

/**
 * A snapshot file with no record at all (a partner's export that failed: a header row only, an empty
 * JSON Lines file) or none that reads (every line rejected) would delete every record as the newest
 * table: it is refused as invalid unless allowEmptySnapshot says an empty file is meant.
 */
describe('files source: a snapshot file with no records is refused, not read as an empty table', () => {
  let targetUrl: string;
  let stateUrl: string;
  let flows = 0;

  beforeAll(async () => {
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_empty_dst'), freshDatabase('files_empty_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name, archived FROM staff ORDER BY employee_no')).map((r) => Object.values(r).join('|'));

  /** A flow of its own over a new inbox whose first file (`good`) filled the target (emptied first) with Ann and Ben. */
  async function imported(file: FileSource, good: { name: string; text: string }) {
    const dir = await inbox();
    const flowId = `test/empty-${++flows}`;
    const run = (spec: FileSource = file) =>
      runFilesFlow({ flowId, spec: filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }, spec), mode: 'Full', targetUrl, stateUrl });
    await withClient(targetUrl, (c) => c.query('TRUNCATE staff'));
    await drop(dir, good.name, Buffer.from(good.text));
    const report = await run();
    expect(report.status, report.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1|Ann|false', '2|Ben|false']);
    /** A Full run over `name` fails naming `reason`: nothing applied, the file in failed/ with its reason, recorded failed. */
    const refused = async (name: string, text: string, reason: RegExp) => {
      await drop(dir, name, Buffer.from(text));
      const failure = await run().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RunFailedError);
      const message = (failure as Error).message;
      expect(message).toMatch(new RegExp(`${name.replace(/\./g, '\\.')} .*cannot be imported: ${reason.source}${ADVICE.source}; nothing from it was applied`));
      expect(message.split('\n')).toHaveLength(1);
      expect(await staff()).toEqual(['1|Ann|false', '2|Ben|false']);
      expect(existsSync(join(dir, name))).toBe(false);
      expect(await readFile(join(dir, 'failed', name), 'utf8')).toBe(text);
      expect(await readFile(join(dir, 'failed', `${name}.reason.txt`), 'utf8')).toMatch(new RegExp(`^${reason.source}${ADVICE.source}\n$`));
      const recorded = (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).find((f) => f.name === name);
      expect([recorded?.status, recorded?.reason]).toEqual(['failed', expect.stringMatching(reason)]);
    };
    return { dir, run, refused };
  }

  it('a CSV file of its header row only: the Full run is refused, the records stay', async () => {
    const { refused } = await imported(CSV, { name: 'employees-1.csv', text: `${HEADER}\n1;Ann;;;\n2;Ben;;;\n` });
    await refused('employees-2.csv', `${HEADER}\n`, /it holds no records/);
    // Blank lines after the header are no records either.
    await refused('employees-3.csv', `${HEADER}\r\n\r\n\r\n`, /it holds no records/);
  }, 120_000);

  it('an empty JSON Lines file, or one of blank lines: refused', async () => {
    const { refused } = await imported(JSON_LINES, { name: 'employees-1.jsonl', text: '{"no":"1","name":"Ann"}\n{"no":"2","name":"Ben"}\n' });
    await refused('employees-2.jsonl', '', /it holds no records/);
    await refused('employees-3.jsonl', '\n\n', /it holds no records/);
  }, 120_000);

  it('an empty CSV file without a header row (csv.header false): refused', async () => {
    const { refused } = await imported(NO_HEADER, { name: 'employees-1.csv', text: '1;Ann;;;\n2;Ben;;;\n' });
    await refused('employees-2.csv', '', /it holds no records/);
  }, 120_000);

  it('a file whose every line is rejected (the partner changed the delimiter): refused the same way', async () => {
    const { refused } = await imported(NO_HEADER, { name: 'employees-1.csv', text: '1;Ann;;;\n2;Ben;;;\n' });
    await refused('employees-2.csv', '1,Ann,,,\n2,Ben,,,\n3,Cid,,,\n', /none of its 3 lines reads as a record \(line 1: 1 fields, expected 5\)/);
    const { refused: refusedJson } = await imported(JSON_LINES, { name: 'employees-1.jsonl', text: '{"no":"1","name":"Ann"}\n{"no":"2","name":"Ben"}\n' });
    await refusedJson('employees-2.jsonl', 'no,name\n', /none of its 1 line reads as a record \(line 1: not JSON \(.*\)\)/);
  }, 120_000);

  it('with allowEmptySnapshot: true a header-only file is the empty table: the Full run deletes every record', async () => {
    const { dir, run } = await imported(CSV, { name: 'employees-1.csv', text: `${HEADER}\n1;Ann;;;\n2;Ben;;;\n` });
    await drop(dir, 'employees-2.csv', Buffer.from(`${HEADER}\n`));
    const report = await run({ ...CSV, allowEmptySnapshot: true });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.entities[0]!.deleted).toBe(2);
    expect(await staff()).toEqual([]);
    expect(existsSync(join(dir, 'processed', 'employees-2.csv'))).toBe(true);
  }, 120_000);

  it('a delta file with no records is no change: imported as before', async () => {
    const delta: FileSource = { ...CSV, contents: 'Delta' };
    const { dir, run } = await imported(delta, { name: 'employees-1.csv', text: `${HEADER}\n1;Ann;;;\n2;Ben;;;\n` });
    await drop(dir, 'employees-2.csv', Buffer.from(`${HEADER}\n`));
    const report = await run();
    expect(report.status, report.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1|Ann|false', '2|Ben|false']);
    expect(existsSync(join(dir, 'processed', 'employees-2.csv'))).toBe(true);
  }, 120_000);

  it('a file with one good line among rejected ones is read as usual: the good line is the table', async () => {
    const { run, dir } = await imported(NO_HEADER, { name: 'employees-1.csv', text: '1;Ann;;;\n2;Ben;;;\n' });
    await drop(dir, 'employees-2.csv', Buffer.from('1,Ann,,,\n2;Ben;;;\n'));
    const report = await run();
    expect(report.status, report.error).toBe('Succeeded');
    expect(await staff()).toEqual(['2|Ben|false']);
  }, 120_000);
});
