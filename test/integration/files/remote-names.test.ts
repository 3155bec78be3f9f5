import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, runFilesFlow, TARGET_SQL } from './files-source.js';
import { INBOX_KINDS, openInbox, type Inbox } from './remote-inbox.js';

const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n'));

// Names a partner's system may well give: spaces (doubled, trailing), letters beyond ASCII (composed, and
// decomposed as macOS writes them), characters a shell or an FTP server's LIST would read as a glob, an
// ls -l symlink arrow, URL escapes, a backslash, braces, a tilde and a dollar sign.
const NAMES = [
  'changes-1 final.csv',
  'changes-2 Müller é.csv',
  'changes-3 [draft]*.csv',
  'changes-4 ?.csv',
  'changes-5  two  spaces .csv',
  'changes-6 -> x.csv',
  'changes-7 %20#\\.csv',
  'changes-8 {a,b}.csv',
  'changes-9 Mu\u0308ller.csv',
  'changes-10 ~$HOME.csv',
];
const BAD = 'changes-11 Zoë [x]*.csv';

describe.each(INBOX_KINDS)('files source ($kind): file names with spaces, non-ASCII and glob characters', ({ kind, runnable }) => {
  let inbox: Inbox;
  let targetUrl: string;
  let stateUrl: string;
  const flowId = `test/names-${kind}`;

  const run = () =>
    runFilesFlow({
      flowId,
      spec: filesFlowSpec(inbox.endpoint({ settleSeconds: 1, afterImport: 'Move', failedDirectory: 'failed' }), DELTA),
      mode: 'Incremental',
      targetUrl,
      stateUrl,
      reach: inbox.files,
    });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no::int')).map((r) => `${r.employee_no} ${r.name}`);
  const records = async () => (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).map((f) => [f.name, f.status, f.path]);

  beforeAll(async () => {
    if (!runnable) return;
    [inbox, targetUrl, stateUrl] = await Promise.all([openInbox(kind), freshDatabase(`files_names_${kind}_dst`), freshDatabase(`files_names_${kind}_state`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(() => inbox?.close());

  it.skipIf(!runnable)('each is imported once and moved to processed/ (made by the first move) under its own name', async () => {
    for (const [i, name] of NAMES.entries()) await drop(inbox.dir, name, csv(`${i + 1};${name};;;`));
    const first = await run();
    expect(first.status, first.error).toBe('Succeeded');
    expect(await staff()).toEqual(NAMES.map((name, i) => `${i + 1} ${name}`));
    expect(await records()).toEqual(NAMES.map((name) => [name, 'imported', `processed/${name}`]));
    expect(readdirSync(join(inbox.dir, 'processed')).sort()).toEqual([...NAMES].sort());
    expect(readdirSync(inbox.dir).sort()).toEqual(['processed']);
    const again = await run();
    expect(again.totals.read).toBe(0);
  }, 60_000);

  it.skipIf(!runnable)('an invalid one goes to failed/ (made by that move) with NAME.reason.txt beside it', async () => {
    await drop(inbox.dir, BAD, csv('9;"Unclosed;;;'));
    const failure = await run().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as Error).message).toContain(`file ${BAD} (`);
    expect(existsSync(join(inbox.dir, BAD))).toBe(false);
    expect(readdirSync(join(inbox.dir, 'failed')).sort()).toEqual([BAD, `${BAD}.reason.txt`]);
    expect(readFileSync(join(inbox.dir, 'failed', `${BAD}.reason.txt`), 'utf8')).toMatch(/^not valid CSV \(Quote Not Closed/);
    expect((await records()).at(-1)).toEqual([BAD, 'failed', `failed/${BAD}`]);
  }, 60_000);
});
