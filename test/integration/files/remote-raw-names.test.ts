import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { openLocation } from '../../../src/connectors/files/location.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, runFilesFlow, TARGET_SQL } from './files-source.js';
import { INBOX_KINDS, openInbox, type Inbox } from './remote-inbox.js';

const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n'));

// `changes-2 Müller.csv` as an old Windows host writes it: Latin-1, the ü one byte (FC), not valid UTF-8.
const RAW_NAME = Buffer.concat([Buffer.from('changes-2 M'), Buffer.from([0xfc]), Buffer.from('ller.csv')]);
// How the warning shows it: the byte escaped where the location sees the name's bytes (a directory, FTP's
// listing read byte for byte), `?` where the transport hands it over decoded (ssh2: U+FFFD).
const SHOWN = { directory: 'changes-2 M\\xFCller.csv', sftp: 'changes-2 M?ller.csv', ftps: 'changes-2 M\\xFCller.csv' };

describe.each(INBOX_KINDS)('files source ($kind): a file whose name is not valid UTF-8', ({ kind, runnable }) => {
  let inbox: Inbox;
  let targetUrl: string;
  let stateUrl: string;
  const flowId = `test/raw-names-${kind}`;

  const run = () =>
    runFilesFlow({
      flowId,
      spec: filesFlowSpec(inbox.endpoint({ settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }), DELTA),
      mode: 'Incremental',
      targetUrl,
      stateUrl,
      reach: inbox.files,
    });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff ORDER BY employee_no::int')).map((r) => r.employee_no as string);
  const records = async () => (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).map((f) => [f.name, f.status, f.path]);

  beforeAll(async () => {
    if (!runnable) return;
    [inbox, targetUrl, stateUrl] = await Promise.all([openInbox(kind), freshDatabase(`files_raw_${kind}_dst`), freshDatabase(`files_raw_${kind}_state`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(() => inbox?.close());

  it.skipIf(!runnable)('is left where it is, named in a warning, and blocks none of the others (run after run)', async () => {
    await drop(inbox.dir, 'changes-1.csv', csv('1;Ann;;;'));
    writeFileSync(Buffer.concat([Buffer.from(`${inbox.dir}/`), RAW_NAME]), csv('2;Ben;;;'));
    await drop(inbox.dir, 'changes-3.csv', csv('3;Cid;;;'));

    const first = await run();
    expect(first.status, first.error).toBe('Succeeded');
    // The run's report says so (its notes reach the CLI's output, the SyncJob's status and the e-mails).
    expect(first.notes).toEqual([expect.stringContaining(`skipped a file whose name is not valid UTF-8 (shown as ${SHOWN[kind]})`)]);
    expect(await staff()).toEqual(['1', '3']);
    expect(await records()).toEqual([
      ['changes-1.csv', 'imported', 'processed/changes-1.csv'],
      ['changes-3.csv', 'imported', 'processed/changes-3.csv'],
    ]);
    await drop(inbox.dir, 'changes-4.csv', csv('4;Dee;;;'));
    const second = await run();
    expect(second.status, second.error).toBe('Succeeded');
    expect(second.notes).toHaveLength(1);
    expect(await staff()).toEqual(['1', '3', '4']);
    expect(existsSync(Buffer.concat([Buffer.from(`${inbox.dir}/`), RAW_NAME]))).toBe(true);

    // The location's listing leaves it out and says why, once however often it lists.
    const location = await openLocation(inbox.endpoint(), { targets: inbox.files.targets, secrets: inbox.files.secrets });
    try {
      expect(await location.list('')).toEqual([]);
      await location.list('');
      const warnings = location.warnings();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`(shown as ${SHOWN[kind]})`);
      expect(warnings[0]).toMatch(/^skipped a file whose name is not valid UTF-8 \(shown as .*\) in .*: ask the partner to rename it$/);
    } finally {
      await location.close();
    }
  }, 60_000);
});
