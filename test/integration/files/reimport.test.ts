import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { runLocally } from '../../../src/local/local-run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, TARGET_SQL } from './files-source.js';

const logger = pino({ level: 'silent' });

const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

describe('files source: a file imported again on request (--reimport)', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;

  const run = (reimport?: string[]) =>
    runSync({
      flowId: 'test/reimport',
      spec: filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move' }, DELTA),
      mode: 'Incremental',
      sourceUrl: '',
      targetUrl,
      stateUrl,
      logger,
      files: { targets: {}, secrets: {}, ...(reimport ? { reimport } : {}) },
    });
  const names = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no')).map((r) => [r.employee_no, r.name]);
  const files = () => withClient(stateUrl, (c) => sourceFiles(c, 'test/reimport'));

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_reimport_dst'), freshDatabase('files_reimport_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  it('an imported file is read again from processed/ when named, once, and after the newer files', async () => {
    await drop(dir, 'changes-1.csv', Buffer.from(csv('1;Ann;;;', '2;Ben;;;')));
    await drop(dir, 'changes-2.csv', Buffer.from(csv('1;Ann Smith;;;')));
    expect((await run()).totals.read).toBe(3);
    expect(await names()).toEqual([
      ['1', 'Ann Smith'],
      ['2', 'Ben'],
    ]);
    await withClient(targetUrl, (c) => c.query(`UPDATE staff SET name = 'edited by hand' WHERE employee_no = '2'`));
    expect((await run()).totals.read).toBe(0);

    const again = await run(['changes-1.csv']);
    expect(again.totals.read).toBe(2);
    // Re-imported after changes-2: its rows are the newest now. Ben's row is what was last synced
    // from the files, so (as for any source row that did not change) the edit in the target stays.
    expect(await names()).toEqual([
      ['1', 'Ann'],
      ['2', 'edited by hand'],
    ]);
    const records = await files();
    expect(records.map((f) => [f.name, f.status, f.path])).toEqual([
      ['changes-2.csv', 'imported', 'processed/changes-2.csv'],
      ['changes-1.csv', 'imported', 'processed/changes-1.csv'],
    ]);
    // Imported once: the next run reads nothing.
    expect((await run()).totals.read).toBe(0);
  }, 120_000);

  it('a re-import that fails leaves the file remembered as before; the next re-import applies it once, after the others', async () => {
    const before = await files();
    const changes2 = before.find((f) => f.name === 'changes-2.csv')!;
    await withClient(targetUrl, (c) => c.query('ALTER TABLE staff RENAME TO staff_away'));
    try {
      await expect(run(['changes-2.csv'])).rejects.toThrow();
    } finally {
      await withClient(targetUrl, (c) => c.query('ALTER TABLE staff_away RENAME TO staff'));
    }
    expect(await files()).toEqual(before);
    // Still imported: a normal run does not take it.
    expect((await run()).totals.read).toBe(0);

    expect((await run(['changes-2.csv'])).totals.read).toBe(1);
    const after = await files();
    expect(after.map((f) => [f.name, f.status, f.path])).toEqual([
      ['changes-1.csv', 'imported', 'processed/changes-1.csv'],
      ['changes-2.csv', 'imported', 'processed/changes-2.csv'],
    ]);
    expect(after[1]!.id).toBeGreaterThan(Math.max(...before.map((f) => f.id)));
    expect(after[1]!.sha256).toBe(changes2.sha256);
    expect((await names())[0]).toEqual(['1', 'Ann Smith']);
    expect((await run()).totals.read).toBe(0);
  }, 120_000);

  it('refuses a name the flow has never seen', async () => {
    await expect(run(['changes-9.csv'])).rejects.toThrow(/--reimport changes-9\.csv: this flow has seen no file of that name/);
  }, 60_000);

  it('ferry run --reimport (the same local runner as the CLI): a dry run reports it and records nothing, a run imports the named file again', async () => {
    const manifests = await mkdtemp(join(tmpdir(), 'ferry-reimport-'));
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec: filesFlowSpec({ directory: dir, settleSeconds: 0 }, DELTA) };
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } };
    await writeFile(join(manifests, 'flow.yaml'), JSON.stringify(flow));
    await writeFile(join(manifests, 'secret.yaml'), JSON.stringify(secret));
    const local = (options: { dryRun?: boolean; reimport?: string[] }) =>
      runLocally({ files: [manifests], flow: 'payroll', mode: 'Incremental', stateDb: stateUrl, logger, ...options });
    // Another flow (its files remembered apart from the one above), files left in place.
    await drop(dir, 'changes-3.csv', Buffer.from(csv('3;Cid;;;')));
    expect((await local({}))[0]!.totals.read).toBe(1);
    expect((await local({}))[0]!.totals.read).toBe(0);
    const payrollFiles = () => withClient(stateUrl, (c) => sourceFiles(c, 'default/payroll'));
    const [recordsBefore, rowsBefore] = [await payrollFiles(), await names()];
    await withClient(targetUrl, (c) => c.query(`UPDATE staff SET name = 'edited' WHERE employee_no = '3'`));
    const dry = (await local({ dryRun: true, reimport: ['changes-3.csv'] }))[0]!;
    expect(dry.dryRun).toBe(true);
    expect(dry.totals.read).toBe(1);
    expect(await payrollFiles()).toEqual(recordsBefore);
    expect(await names()).toEqual(rowsBefore.map(([no, name]) => [no, no === '3' ? 'edited' : name]));
    // The dry run recorded nothing: the file is still imported, a normal run reads nothing.
    expect((await local({}))[0]!.totals.read).toBe(0);
    expect((await local({ reimport: ['changes-3.csv'] }))[0]!.totals.read).toBe(1);
    expect((await local({}))[0]!.totals.read).toBe(0);
  }, 120_000);
});
