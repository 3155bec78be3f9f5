import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, runFilesFlow, TARGET_SQL } from './files-source.js';
import { INBOX_KINDS, openInbox, type Inbox } from './remote-inbox.js';

const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

/** Every file and folder under `dir` (sub-folders too) with its bytes and time: what the partner's directory holds. */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const relative = path.slice(dir.length + 1);
    if (entry.isDirectory()) out[`${relative}/`] = 'folder';
    else if (entry.isFile()) out[relative] = `${(await readFile(path)).toString('base64')} ${(await stat(path)).mtimeMs}`;
  }
  return out;
}

// In a local directory, and over real sshd and vsftpd: the server's folder must hold the same bytes after a dry run.
describe.each(INBOX_KINDS)('files source ($kind): a dry run reads the files and changes nothing on the server or in the state database', ({ kind, runnable }) => {
  let inbox: Inbox;
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  const flowId = `test/dry-${kind}`;

  const run = (dryRun: boolean) =>
    runFilesFlow({
      flowId,
      spec: filesFlowSpec(inbox.endpoint({ settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }), DELTA),
      mode: 'Incremental',
      dryRun,
      targetUrl,
      stateUrl,
      reach: inbox.files,
    });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff ORDER BY employee_no')).map((r) => r.employee_no as string);
  const records = () => withClient(stateUrl, (c) => sourceFiles(c, flowId));

  beforeAll(async () => {
    if (!runnable) return;
    [inbox, targetUrl, stateUrl] = await Promise.all([openInbox(kind), freshDatabase(`files_dry_${kind}_dst`), freshDatabase(`files_dry_${kind}_state`)]);
    dir = inbox.dir;
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(() => inbox?.close());

  it.skipIf(!runnable)('a good file: the dry run reports its rows, moves nothing to processed/ and records nothing', async () => {
    await drop(dir, 'changes-1.csv', Buffer.from(csv('1;Ann;;;', '2;Ben;;;')));
    const before = await contents(dir);
    const dry = await run(true);
    expect(dry.status, dry.error).toBe('Succeeded');
    expect(dry.dryRun).toBe(true);
    expect(dry.totals.created).toBe(2);
    expect(await contents(dir)).toEqual(before);
    expect(await records()).toEqual([]);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it.skipIf(!runnable)('and an invalid one: the dry run says what would fail and why, and leaves the directory byte for byte', async () => {
    await drop(dir, 'changes-2.csv', Buffer.from(csv('3;"Cid;;;', '4;Dee;;;')));
    const before = await contents(dir);
    expect(Object.keys(before).sort()).toEqual(['changes-1.csv', 'changes-2.csv']);
    const failure = await run(true).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    const { report } = failure as RunFailedError;
    expect(report.dryRun).toBe(true);
    expect(report.error).toMatch(/changes-2\.csv .*cannot be imported: not valid CSV \(Quote Not Closed.*dry run: the file was left where it is; a real run moves it to failed\//);
    expect(await contents(dir)).toEqual(before);
    expect(await records()).toEqual([]);
    expect(await staff()).toEqual([]);
  }, 60_000);

  it.skipIf(!runnable)('a real run afterwards fails the invalid file as usual (to failed/ with its reason), and the next imports the good one', async () => {
    const failure = await run(false).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(await readFile(join(dir, 'failed', 'changes-2.csv.reason.txt'), 'utf8')).toMatch(/Quote Not Closed/);
    const report = await run(false);
    expect(report.totals.created).toBe(2);
    expect(await staff()).toEqual(['1', '2']);
    expect((await records()).map((f) => [f.name, f.status, f.path])).toEqual([
      ['changes-1.csv', 'imported', 'processed/changes-1.csv'],
      ['changes-2.csv', 'failed', 'failed/changes-2.csv'],
    ]);
  }, 60_000);
});
