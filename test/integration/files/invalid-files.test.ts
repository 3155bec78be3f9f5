import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL } from './files-source.js';

const PLAIN: FileSource = { pattern: 'employees-*', contents: 'Snapshot', csv: { delimiter: ';' } };

const rows = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

// Six good rows, then a quoted field that never closes: with batches of 2, three batches could be
// applied before the parser meets the end of the file.
const UNCLOSED = rows('1;Ann;;;', '2;Ben;;;', '3;Cid;;;', '4;Dee;;;', '5;Eve;;;', '6;Fay;;;', '7;"Gus;;;', '8;Hal;;;');

describe('files source: a file invalid as a whole applies nothing and goes to failed/ with its reason', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;

  const run = (mode: 'Full' | 'Incremental') =>
    runFilesFlow({ flowId: 'test/invalid', spec: filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }, PLAIN), mode, targetUrl, stateUrl });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff ORDER BY employee_no')).map((r) => r.employee_no as string);
  const failedWith = async (mode: 'Full' | 'Incremental', name: string, reason: RegExp) => {
    const failure = await run(mode).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as Error).message).toMatch(new RegExp(`${name.replace(/\./g, '\\.')} .*cannot be imported: ${reason.source}.*nothing from it was applied`));
    expect(existsSync(join(dir, name))).toBe(false);
    expect(existsSync(join(dir, 'failed', name))).toBe(true);
    expect(await readFile(join(dir, 'failed', `${name}.reason.txt`), 'utf8')).toMatch(reason);
    const recorded = (await withClient(stateUrl, (c) => sourceFiles(c, 'test/invalid'))).find((f) => f.name === name);
    expect([recorded?.status, recorded?.reason]).toEqual(['failed', expect.stringMatching(reason)]);
  };

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_invalid_dst'), freshDatabase('files_invalid_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  it('an unclosed quote after six good rows: an Incremental run applies none of them', async () => {
    await drop(dir, 'employees-1.csv', Buffer.from(UNCLOSED));
    await failedWith('Incremental', 'employees-1.csv', /not valid CSV \(Quote Not Closed/);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it('a stray quote mid-file fails a Full run the same way', async () => {
    await drop(dir, 'employees-2.csv', Buffer.from(rows('1;Ann;;;', '2;Ben;;;', '3;"Cid"x;;;', '4;Dee;;;')));
    await failedWith('Full', 'employees-2.csv', /not valid CSV \(Invalid Closing Quote/);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it('a truncated gzip file and a zip that is no archive are refused before any row', async () => {
    const whole = gzipSync(Buffer.from(rows('1;Ann;;;', '2;Ben;;;', '3;Cid;;;')));
    await drop(dir, 'employees-3.csv.gz', whole.subarray(0, whole.length - 12));
    await failedWith('Incremental', 'employees-3.csv.gz', /corrupt gzip data/);
    await drop(dir, 'employees-4.csv.zip', Buffer.from('PK\u0003\u0004 this is not really a zip archive'));
    await failedWith('Incremental', 'employees-4.csv.zip', /corrupt zip archive/);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it('a stray quote inside a gzip file is found as the file is unpacked (the quoting scan rides on gunzip)', async () => {
    await drop(dir, 'employees-4b.csv.gz', gzipSync(Buffer.from(rows('1;Ann;;;', '2;"Ben"x;;;', '3;Cid;;;'))));
    await failedWith('Incremental', 'employees-4b.csv.gz', /not valid CSV \(Invalid Closing Quote/);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it('the next valid file is imported as usual', async () => {
    await drop(dir, 'employees-5.csv', Buffer.from(rows('1;Ann;;;', '2;Ben;;;')));
    const report = await run('Incremental');
    expect(report.totals.read).toBe(2);
    expect(await staff()).toEqual(['1', '2']);
  }, 60_000);
});
