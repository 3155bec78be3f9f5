import { appendFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL } from './files-source.js';

// The pattern matches a partner's temporary names too (changes-2.csv.tmp): only the run's own rules keep them out.
const DELTA: FileSource = { pattern: 'changes-*', contents: 'Delta', orderCapture: '-(\\d+)\\.csv', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

describe('files source: a run leaves a file still being written for a later run', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;

  const run = () =>
    runFilesFlow({ flowId: 'test/still-written', spec: filesFlowSpec({ directory: dir, settleSeconds: 1 }, DELTA), mode: 'Incremental', targetUrl, stateUrl });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff ORDER BY employee_no::int')).map((r) => r.employee_no as string);
  const recorded = async () => (await withClient(stateUrl, (c) => sourceFiles(c, 'test/still-written'))).map((f) => f.name);

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_settle_dst'), freshDatabase('files_settle_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('neither a temporary name (.tmp) nor a file growing between the two looks is picked up; both are, once settled', async () => {
    await drop(dir, 'changes-1.csv', Buffer.from(csv('1;Ann;;;')));
    await drop(dir, 'changes-2.csv.tmp', Buffer.from(csv('2;Ben;;;')));
    await drop(dir, 'changes-3.csv', Buffer.from(csv('3;Cid;;;')));
    // changes-3.csv grows (whole lines, valid CSV at every moment) all through the run's two looks.
    let next = 100;
    const growing = setInterval(() => void appendFile(join(dir, 'changes-3.csv'), `\n${next++};Grown;;;`), 100);
    const first = await run().finally(() => clearInterval(growing));
    expect(first.status, first.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1']);
    expect(await recorded()).toEqual(['changes-1.csv']);

    // The partner renames its finished file and stops writing: the next run takes both, in order.
    await rename(join(dir, 'changes-2.csv.tmp'), join(dir, 'changes-2.csv'));
    const grown = Array.from({ length: next - 100 }, (_, i) => String(100 + i));
    const second = await run();
    expect(second.status, second.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1', '2', '3', ...grown]);
    expect(await recorded()).toEqual(['changes-1.csv', 'changes-2.csv', 'changes-3.csv']);
  }, 60_000);
});
