import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { filesFlowSpec, runFilesFlow, TARGET_SQL } from './files-source.js';
import { INBOX_KINDS, openInbox, type Inbox } from './remote-inbox.js';

const csv = (...lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n'));

/**
 * The moves to processed/ (afterImport: Move) and failedDirectory, as the README promises them: a
 * file moved there before is never replaced by another of the same name, and a move that fails is one
 * line naming the file and where it was going, with nothing applied twice.
 */
describe.each(INBOX_KINDS)('files source ($kind): moving files to processed/ and failed/', ({ kind, runnable }) => {
  let inbox: Inbox;
  let flows = 0;

  /** A flow of its own (own state and target databases), reading the inbox's files named PREFIX-N.csv. */
  async function flow(prefix: string) {
    const flowId = `test/moves-${kind}-${++flows}`;
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase(`files_moves_${kind}_dst`), freshDatabase(`files_moves_${kind}_state`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    const file = { pattern: `${prefix}-*.csv`, contents: 'Delta' as const, orderCapture: '-(\\d+)', csv: { delimiter: ';' } };
    const spec = filesFlowSpec(inbox.endpoint({ settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }), file);
    return {
      run: (options: { dryRun?: boolean } = {}) => runFilesFlow({ flowId, spec, mode: 'Incremental', targetUrl, stateUrl, reach: inbox.files, ...options }),
      reimport: (names: string[]) => runSync({ flowId, spec, mode: 'Incremental', sourceUrl: '', targetUrl, stateUrl, logger: pino({ level: 'silent' }), files: { ...inbox.files, reimport: names } }),
      targetUrl,
      /** The run's error: one line. */
      fails: async () => {
        const failure = await runFilesFlow({ flowId, spec, mode: 'Incremental', targetUrl, stateUrl, reach: inbox.files }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(RunFailedError);
        const message = (failure as Error).message;
        expect(message).not.toMatch(/\n/);
        return message;
      },
      staff: async () => (await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no::int')).map((r) => `${r.employee_no} ${r.name}`),
      records: async () => (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).map((f) => [f.name, f.status, f.path]),
    };
  }
  const at = (...parts: string[]) => join(inbox.dir, ...parts);
  const text = (...parts: string[]) => readFileSync(at(...parts), 'utf8');

  beforeAll(async () => {
    if (runnable) inbox = await openInbox(kind);
  }, 60_000);

  afterAll(() => inbox?.close());

  it.skipIf(!runnable)('a file sent again under the name of one moved to processed/ before does not replace it there: it goes to NAME (2)', async () => {
    const { run, staff, records } = await flow('resent');
    writeFileSync(at('resent-1.csv'), csv('1;Ann;;;'));
    expect((await run()).totals.created).toBe(1);
    expect(text('processed', 'resent-1.csv')).toBe(csv('1;Ann;;;').toString());

    // The partner sends other content under the same name, twice: each is imported, and the ones in processed/ stay as they were.
    writeFileSync(at('resent-1.csv'), csv('2;Ben Other;;;'));
    expect((await run()).totals.created).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    writeFileSync(at('resent-1.csv'), csv('3;Cy;;;'));
    expect((await run()).totals.created).toBe(1);
    expect(await staff()).toEqual(['1 Ann', '2 Ben Other', '3 Cy']);
    expect(existsSync(at('resent-1.csv'))).toBe(false);
    expect(text('processed', 'resent-1.csv')).toBe(csv('1;Ann;;;').toString());
    expect(text('processed', 'resent-1 (2).csv')).toBe(csv('2;Ben Other;;;').toString());
    expect(text('processed', 'resent-1 (3).csv')).toBe(csv('3;Cy;;;').toString());
    expect(await records()).toEqual([
      ['resent-1.csv', 'imported', 'processed/resent-1.csv'],
      ['resent-1.csv', 'imported', 'processed/resent-1 (2).csv'],
      ['resent-1.csv', 'imported', 'processed/resent-1 (3).csv'],
    ]);
    // Recorded imported: the next run does not apply anything again.
    expect((await run()).totals.read).toBe(0);
  }, 60_000);

  // A folder's permissions bind a server's account (nobody, ftp), not the root these tests run as: no local-directory case.
  it.skipIf(!runnable || kind === 'directory')('processed/ refusing the move (permission denied): one line naming the file, and nothing applied twice', async () => {
    const { run, fails, staff, records } = await flow('denied');
    mkdirSync(at('processed'), { recursive: true });
    chmodSync(at('processed'), 0o555);
    try {
      writeFileSync(at('denied-1.csv'), csv('1;Ann;;;'));
      writeFileSync(at('denied-2.csv'), csv('2;Ben;;;'));
      expect(await fails()).toMatch(/^cannot move denied-1\.csv to processed\/denied-1\.csv \(ExportTarget partner \((SFTP|FTPS) 127\.0\.0\.1\)\): permission denied( \(the server said: 550 Rename failed\.\))?; the file stays where it is$/);
      expect(await staff()).toEqual(['1 Ann', '2 Ben']);
      expect(await records()).toEqual([
        ['denied-1.csv', 'imported', 'denied-1.csv'],
        ['denied-2.csv', 'imported', 'denied-2.csv'],
      ]);
      // Still refused: the next run applies nothing again, and does not fail over the files it imported before.
      expect((await run()).totals.read).toBe(0);
      expect(await staff()).toEqual(['1 Ann', '2 Ben']);
      // Once processed/ takes them, the next run moves them there (imported files go to processed/), applying nothing.
      chmodSync(at('processed'), 0o777);
      // A dry run leaves them where they are.
      expect((await run({ dryRun: true })).totals.read).toBe(0);
      expect(readdirSync(inbox.dir).filter((n) => n.startsWith('denied-')).sort()).toEqual(['denied-1.csv', 'denied-2.csv']);
      expect((await run()).totals.read).toBe(0);
      expect(await staff()).toEqual(['1 Ann', '2 Ben']);
      expect(readdirSync(at('processed')).filter((n) => n.startsWith('denied-')).sort()).toEqual(['denied-1.csv', 'denied-2.csv']);
      expect(await records()).toEqual([
        ['denied-1.csv', 'imported', 'processed/denied-1.csv'],
        ['denied-2.csv', 'imported', 'processed/denied-2.csv'],
      ]);
    } finally {
      chmodSync(at('processed'), 0o777);
    }
  }, 60_000);

  it.skipIf(!runnable)('the same file sent again after it was imported and moved: not applied again, and moved to processed/ over its identical copy', async () => {
    const { run, staff, records } = await flow('twice');
    writeFileSync(at('twice-1.csv'), csv('1;Ann;;;'));
    expect((await run()).totals.created).toBe(1);
    // The partner sends it again, byte for byte (a file's time on a server is in whole seconds: this one is newer).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    writeFileSync(at('twice-1.csv'), csv('1;Ann;;;'));
    expect((await run()).totals.read).toBe(0);
    expect((await run()).totals.read).toBe(0);
    expect(await staff()).toEqual(['1 Ann']);
    expect(existsSync(at('twice-1.csv'))).toBe(false);
    expect(text('processed', 'twice-1.csv')).toBe(csv('1;Ann;;;').toString());
    expect(await records()).toEqual([['twice-1.csv', 'imported', 'processed/twice-1.csv']]);
  }, 60_000);

  it.skipIf(!runnable)('--reimport of a file moved to processed/ before, the partner having sent the same bytes again: applied once more, and back in processed/', async () => {
    const { run, reimport, staff, records } = await flow('again');
    writeFileSync(at('again-1.csv'), csv('1;Ann;;;'));
    expect((await run()).totals.created).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    writeFileSync(at('again-1.csv'), csv('1;Ann;;;'));
    const again = await reimport(['again-1.csv']);
    expect(again.status, again.error).toBe('Succeeded');
    expect(again.totals.read).toBe(1);
    expect(await staff()).toEqual(['1 Ann']);
    expect(existsSync(at('again-1.csv'))).toBe(false);
    expect(text('processed', 'again-1.csv')).toBe(csv('1;Ann;;;').toString());
    expect(await records()).toEqual([['again-1.csv', 'imported', 'processed/again-1.csv']]);
    expect((await run()).totals.read).toBe(0);
  }, 60_000);

  it.skipIf(!runnable)('an invalid file named like one in failed/ before goes beside it, with its own reason file; both stay', async () => {
    const { fails, records } = await flow('broken');
    writeFileSync(at('broken-1.csv'), csv('1;"Ann;;;'));
    expect(await fails()).toMatch(/^file broken-1\.csv .*cannot be imported: not valid CSV \(Quote Not Closed/);
    writeFileSync(at('broken-1.csv'), csv('1;Ann;;;', '2;"Ben;;;'));
    expect(await fails()).toMatch(/^file broken-1\.csv .*cannot be imported: not valid CSV \(Quote Not Closed.* at line 3\); nothing from it was applied$/);
    expect(readdirSync(at('failed')).filter((n) => n.startsWith('broken-')).sort()).toEqual([
      'broken-1 (2).csv',
      'broken-1 (2).csv.reason.txt',
      'broken-1.csv',
      'broken-1.csv.reason.txt',
    ]);
    expect(text('failed', 'broken-1.csv')).toBe(csv('1;"Ann;;;').toString());
    expect(text('failed', 'broken-1.csv.reason.txt')).toMatch(/at line 2\)\n$/);
    expect(text('failed', 'broken-1 (2).csv')).toBe(csv('1;Ann;;;', '2;"Ben;;;').toString());
    expect(text('failed', 'broken-1 (2).csv.reason.txt')).toMatch(/at line 3\)\n$/);
    expect(await records()).toEqual([
      ['broken-1.csv', 'failed', 'failed/broken-1.csv'],
      ['broken-1.csv', 'failed', 'failed/broken-1 (2).csv'],
    ]);
    expect(existsSync(at('broken-1.csv'))).toBe(false);
  }, 60_000);

  // As above: root ignores a local folder's permissions, so only the servers' accounts can be refused.
  it.skipIf(!runnable || kind === 'directory')('failed/ refusing the move: the one line says why the file was refused, and that it could not be moved', async () => {
    const { fails, records } = await flow('stuck');
    mkdirSync(at('failed'), { recursive: true });
    chmodSync(at('failed'), 0o555);
    try {
      writeFileSync(at('stuck-1.csv'), csv('1;"Ann;;;'));
      expect(await fails()).toMatch(
        /^file stuck-1\.csv .*cannot be imported: not valid CSV \(Quote Not Closed.*\); nothing from it was applied; moving it to failed\/stuck-1\.csv failed: permission denied( \(the server said: 550 Rename failed\.\))?$/,
      );
      expect(await records()).toEqual([['stuck-1.csv', 'failed', 'stuck-1.csv']]);
      expect(existsSync(at('stuck-1.csv'))).toBe(true);
    } finally {
      chmodSync(at('failed'), 0o777);
    }
  }, 60_000);
});
