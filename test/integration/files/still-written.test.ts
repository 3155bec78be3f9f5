import { appendFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, runFilesFlow, TARGET_SQL } from './files-source.js';
import { INBOX_KINDS, openInbox, type Inbox } from './remote-inbox.js';

// The pattern matches a partner's temporary names too (changes-2.csv.tmp): only the run's own rules keep them out.
const DELTA: FileSource = { pattern: 'changes-*', contents: 'Delta', orderCapture: '-(\\d+)\\.csv', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

// In a local directory, and over real sshd and vsftpd (their listings give sizes and times their own way: FTP's MDTM in seconds).
describe.each(INBOX_KINDS)('files source ($kind): a run leaves a file still being written for a later run', ({ kind, runnable }) => {
  let inbox: Inbox;
  let targetUrl: string;
  let stateUrl: string;
  const flowId = `test/still-written-${kind}`;

  const run = () =>
    runFilesFlow({ flowId, spec: filesFlowSpec(inbox.endpoint({ settleSeconds: 1 }), DELTA), mode: 'Incremental', targetUrl, stateUrl, reach: inbox.files });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff ORDER BY employee_no::int')).map((r) => r.employee_no as string);
  const recorded = async () => (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).map((f) => f.name);

  beforeAll(async () => {
    if (!runnable) return;
    [inbox, targetUrl, stateUrl] = await Promise.all([openInbox(kind), freshDatabase(`files_settle_${kind}_dst`), freshDatabase(`files_settle_${kind}_state`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(() => inbox?.close());

  it.skipIf(!runnable)('neither a temporary name (.tmp, .part) nor a file growing between the two looks is picked up; all are, once settled', async () => {
    const dir = inbox.dir;
    await drop(dir, 'changes-1.csv', Buffer.from(csv('1;Ann;;;')));
    await drop(dir, 'changes-2.csv.tmp', Buffer.from(csv('2;Ben;;;')));
    await drop(dir, 'changes-3.csv', Buffer.from(csv('3;Cid;;;')));
    await drop(dir, 'changes-4.csv.part', Buffer.from(csv('4;Dee;;;')));
    // changes-3.csv grows (whole lines, valid CSV at every moment) all through the run's two looks.
    let next = 100;
    const growing = setInterval(() => void appendFile(join(dir, 'changes-3.csv'), `\n${next++};Grown;;;`), 100);
    const first = await run().finally(() => clearInterval(growing));
    expect(first.status, first.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1']);
    expect(await recorded()).toEqual(['changes-1.csv']);

    // The partner renames its finished files and stops writing: the next run takes them all, in order.
    await rename(join(dir, 'changes-2.csv.tmp'), join(dir, 'changes-2.csv'));
    await rename(join(dir, 'changes-4.csv.part'), join(dir, 'changes-4.csv'));
    const grown = Array.from({ length: next - 100 }, (_, i) => String(100 + i));
    const second = await run();
    expect(second.status, second.error).toBe('Succeeded');
    expect(await staff()).toEqual(['1', '2', '3', '4', ...grown]);
    expect(await recorded()).toEqual(['changes-1.csv', 'changes-2.csv', 'changes-3.csv', 'changes-4.csv']);
  }, 60_000);
});
