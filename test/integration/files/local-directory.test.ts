import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { DECRYPTION, drop, encryptFor, filesFlowSpec, inbox, pgpKeys, runFilesFlow, TARGET_SQL, win1252Gzip, type PgpKeys } from './files-source.js';


// Quoted delimiters, quotes and a newline inside a field, Windows-1252 accents, CRLF, "" versus
// empty, a decimal comma, a bad date, a missing key, a short row, trailing empty lines. Lines are
// the file's: José's record spans lines 3 and 4.
const DAY1 = [
  'no;name;note;salary;born',
  '1;"Zoë Müller";"says ""hi""; twice";3200,50;01.02.1980',
  '2;José;"line one\r\nline two";2800;15.11.1975',
  '3;Ana;"";;',
  '4;Bad Date;x;100;31.02.1990',
  ';No Key;x;1;01.01.2000',
  '5;Short row',
  '6;Ørjan;;4100,00;29.02.2000',
  '',
  '',
].join('\r\n');

describe('files source: a local directory, snapshot CSV (Windows-1252, gzip, OpenPGP signed)', () => {
  let keys: PgpKeys;
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;

  const run = (mode: 'Full' | 'Incremental', extra: { afterImport?: 'Move'; failedDirectory?: string } = { afterImport: 'Move', failedDirectory: 'failed' }) =>
    runFilesFlow({ flowId: 'test/payroll', spec: filesFlowSpec({ directory: dir, decryption: DECRYPTION, settleSeconds: 0, ...extra }), mode, targetUrl, stateUrl, keys });
  const staff = () => sqlRows(targetUrl, 'SELECT employee_no, name, note, salary::text, born::text FROM staff ORDER BY employee_no');

  beforeAll(async () => {
    keys = await pgpKeys();
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_dst'), freshDatabase('files_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  it('imports the rows it can read and rejects the others with file, line and reason', async () => {
    await drop(dir, 'employees-20261101.csv.gz.pgp', await encryptFor(keys, win1252Gzip(DAY1)));
    const report = await run('Full');
    expect(await staff()).toEqual([
      { employee_no: '1', name: 'Zoë Müller', note: 'says "hi"; twice', salary: '3200.50', born: '1980-02-01' },
      { employee_no: '2', name: 'José', note: 'line one\r\nline two', salary: '2800.00', born: '1975-11-15' },
      { employee_no: '3', name: 'Ana', note: '', salary: null, born: null },
      { employee_no: '6', name: 'Ørjan', note: null, salary: '4100.00', born: '2000-02-29' },
    ]);
    const reasons = report.rejectedSamples.map((r) => r.reason).join('\n');
    expect(reasons).toMatch(/employees-20261101\.csv\.gz\.pgp line 7: "31\.02\.1990" is not a date/);
    expect(reasons).toMatch(/line 8: missing key no/);
    expect(reasons).toMatch(/line 9: 2 fields, expected 5/);
    // Imported and moved to processed/.
    expect(existsSync(join(dir, 'processed', 'employees-20261101.csv.gz.pgp'))).toBe(true);
    const files = await withClient(stateUrl, (c) => sourceFiles(c, 'test/payroll'));
    expect(files.map((f) => [f.name, f.status, f.path])).toEqual([['employees-20261101.csv.gz.pgp', 'imported', 'processed/employees-20261101.csv.gz.pgp']]);
  }, 120_000);

  it('an Incremental run without a new file changes nothing', async () => {
    const report = await run('Incremental');
    expect(report.totals.read).toBe(0);
  }, 60_000);

  it('a new snapshot: Incremental applies changes, Full shows a person removed from the file as deleted', async () => {
    const day2 = ['no;name;note;salary;born', '1;"Zoë Müller";"says ""hi""; twice";3300,00;01.02.1980', '2;José;"line one\r\nline two";2800;15.11.1975', '6;Ørjan;;4100,00;29.02.2000'].join('\r\n');
    await drop(dir, 'employees-20261102.csv.gz.pgp', await encryptFor(keys, win1252Gzip(day2)));
    await run('Incremental');
    expect((await staff()).map((r) => [r.employee_no, r.salary])).toEqual([
      ['1', '3300.00'],
      ['2', '2800.00'],
      ['3', null],
      ['6', '4100.00'],
    ]);
    const full = await run('Full');
    expect((await staff()).map((r) => r.employee_no)).toEqual(['1', '2', '6']);
    expect(full.entities[0]!.deleted).toBe(1);
  }, 120_000);

  it('refuses a file signed by another key: the run fails with one line, the file goes to failed/ with its reason', async () => {
    await drop(dir, 'employees-20261103.csv.gz.pgp', await encryptFor(keys, win1252Gzip('no;name;note;salary;born\r\n9;Mallory;;1;01.01.2000'), 'stranger'));
    const failure = await run('Incremental').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(String((failure as Error).message)).toMatch(/employees-20261103\.csv\.gz\.pgp .*cannot be imported: signature required/);
    expect((await staff()).map((r) => r.employee_no)).toEqual(['1', '2', '6']);
    expect(await readFile(join(dir, 'failed', 'employees-20261103.csv.gz.pgp.reason.txt'), 'utf8')).toMatch(/signature required/);
    // The next run goes on without it.
    const next = await run('Incremental');
    expect(next.totals.read).toBe(0);
  }, 120_000);

  it('refuses a file whose encrypted data was altered (decrypted as a stream, checked at its end): nothing from it is applied', async () => {
    const rows = ['no;name;note;salary;born', ...Array.from({ length: 2000 }, (_, i) => `${100 + i};Tampered ${i};;1;01.01.2000`)].join('\r\n');
    const encrypted = Buffer.from(await encryptFor(keys, win1252Gzip(rows)));
    encrypted[encrypted.length - 40] ^= 0x01;
    await drop(dir, 'employees-20261105.csv.gz.pgp', encrypted);
    const before = await staff();
    const failure = await run('Incremental').catch((error: unknown) => error);
    expect(String((failure as Error).message)).toMatch(/employees-20261105\.csv\.gz\.pgp .*cannot be imported: cannot decrypt \(.*nothing from it was applied/);
    expect(await staff()).toEqual(before);
  }, 120_000);

  it('refuses an unsigned file when a signature is required', async () => {
    await drop(dir, 'employees-20261104.csv.gz.pgp', await encryptFor(keys, win1252Gzip('no;name;note;salary;born\r\n9;Nobody;;1;01.01.2000'), 'none'));
    const failure = await run('Incremental').catch((error: unknown) => error);
    expect(String((failure as Error).message)).toMatch(/signature required: the file is not signed/);
  }, 120_000);
});
