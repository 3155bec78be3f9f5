import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSource, FilesDecryption } from '../../../src/api/files.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { suiteRunnable } from '../../helpers/required-suites.js';
import { DECRYPTION, drop, filesFlowSpec, gpgEncrypt, inbox, pgpKeys, runFilesFlow, TARGET_SQL, zipOf, type PgpKeys } from './files-source.js';

/** The files are made by real GnuPG: without it the suite is skipped, saying so (and fails where CI requires every suite). */
const gpgAvailable = suiteRunnable(
  (() => {
    try {
      execFileSync('gpg', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })(),
  'files signature-required suite skipped: GnuPG (gpg) is not installed (apt-get install gnupg)',
);

// Every name the partner might use matches: the pattern is what an attacker's plain file aims at.
const FILE: FileSource = { pattern: 'employees-*.csv*', contents: 'Delta', orderCapture: '-(\\d{8})\\.csv', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n'));

describe.skipIf(!gpgAvailable)('files source with decryption set: the content, not the name, says whether a file is an OpenPGP message', () => {
  let keys: PgpKeys;
  let targetUrl: string;
  let stateUrl: string;

  const flow = (flowId: string, dir: string, decryption: FilesDecryption) => ({
    run: () =>
      runFilesFlow({
        flowId,
        spec: filesFlowSpec({ directory: dir, decryption, settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' }, FILE),
        mode: 'Incremental',
        targetUrl,
        stateUrl,
        keys,
      }),
    /** The run fails with one line naming the file and `reason`, the file is in failed/ with its reason, and recorded failed. */
    async refuses(name: string, reason: string) {
      const failure = await this.run().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RunFailedError);
      const quoted = (text: string) => text.replace(/[.()]/g, '\\$&');
      expect((failure as Error).message).toMatch(new RegExp(`file ${quoted(name)} .*cannot be imported: ${quoted(reason)}; nothing from it was applied`));
      expect(existsSync(join(dir, name))).toBe(false);
      expect(existsSync(join(dir, 'failed', name))).toBe(true);
      expect(await readFile(join(dir, 'failed', `${name}.reason.txt`), 'utf8')).toBe(`${reason}\n`);
      const recorded = (await withClient(stateUrl, (c) => sourceFiles(c, flowId))).find((f) => f.name === name);
      expect([recorded?.status, recorded?.reason]).toEqual(['failed', reason]);
    },
  });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no')).map((r) => `${r.employee_no} ${r.name}`);

  beforeAll(async () => {
    keys = await pgpKeys();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_sigreq_dst'), freshDatabase('files_sigreq_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  describe('a signature is required (verify, required by default)', () => {
    let dir: string;
    let payroll: ReturnType<typeof flow>;
    beforeAll(async () => {
      dir = await inbox();
      payroll = flow('test/sigreq', dir, DECRYPTION);
    });
    const REFUSED = 'signature required: the file is not an OpenPGP message';

    it('a plain CSV matching the pattern is refused, goes to failed/, and no row reaches the target', async () => {
      await drop(dir, 'employees-20261101.csv', csv('1;Mallory;;;'));
      await payroll.refuses('employees-20261101.csv', REFUSED);
      expect(await staff()).toEqual([]);
    }, 60_000);

    it('a gzip-only file (.csv.gz, not encrypted) is refused the same way', async () => {
      await drop(dir, 'employees-20261102.csv.gz', gzipSync(csv('2;Mallory;;;')));
      await payroll.refuses('employees-20261102.csv.gz', REFUSED);
      expect(await staff()).toEqual([]);
    }, 60_000);

    it('a zip-only file (.csv.zip, not encrypted) is refused the same way', async () => {
      await drop(dir, 'employees-20261103.csv.zip', zipOf('employees.csv', csv('3;Mallory;;;')));
      await payroll.refuses('employees-20261103.csv.zip', REFUSED);
      expect(await staff()).toEqual([]);
    }, 60_000);

    it('a .pgp name over plain text fails as not OpenPGP, as it did', async () => {
      await drop(dir, 'employees-20261104.csv.pgp', csv('4;Mallory;;;'));
      const failure = await payroll.run().catch((error: unknown) => error as Error);
      expect(String(failure)).toMatch(/employees-20261104\.csv\.pgp .*cannot be imported: not an OpenPGP message \(.*nothing from it was applied/);
      expect(existsSync(join(dir, 'failed', 'employees-20261104.csv.pgp'))).toBe(true);
      expect(await staff()).toEqual([]);
    }, 60_000);

    it('a file GnuPG encrypted and signed is imported under a name without .pgp (binary, then armored gzip)', async () => {
      await drop(dir, 'employees-20261105.csv', gpgEncrypt(keys, csv('5;Ann;;;'), { sign: true }));
      expect((await payroll.run()).totals.read).toBe(1);
      expect(await staff()).toEqual(['5 Ann']);
      await drop(dir, 'employees-20261106.csv.gz', gpgEncrypt(keys, gzipSync(csv('6;Ben;;;')), { sign: true, armor: true }));
      expect((await payroll.run()).totals.read).toBe(1);
      expect(await staff()).toEqual(['5 Ann', '6 Ben']);
      expect(existsSync(join(dir, 'processed', 'employees-20261106.csv.gz'))).toBe(true);
    }, 60_000);

    it('a file GnuPG encrypted but not signed, under a plain name, is refused as unsigned', async () => {
      await drop(dir, 'employees-20261107.csv', gpgEncrypt(keys, csv('7;Mallory;;;'), { sign: false }));
      await payroll.refuses('employees-20261107.csv', 'signature required: the file is not signed');
      expect(await staff()).toEqual(['5 Ann', '6 Ben']);
    }, 60_000);
  });

  describe('decryption without a required signature (verify.required: false)', () => {
    let dir: string;
    let partner: ReturnType<typeof flow>;
    beforeAll(async () => {
      dir = await inbox();
      partner = flow('test/encrypted-only', dir, { ...DECRYPTION, verify: { ...DECRYPTION.verify, required: false } });
    });

    it('a plain CSV is still refused: with decryption set, files are encrypted', async () => {
      await drop(dir, 'employees-20261201.csv', csv('11;Mallory;;;'));
      await partner.refuses('employees-20261201.csv', 'encryption required: the file is not an OpenPGP message (spec.source.files.decryption is set)');
      expect(await staff()).toEqual(['5 Ann', '6 Ben']);
    }, 60_000);

    it('an encrypted, unsigned file under a plain name is imported', async () => {
      await drop(dir, 'employees-20261202.csv', gpgEncrypt(keys, csv('12;Cid;;;'), { sign: false }));
      expect((await partner.run()).totals.read).toBe(1);
      expect(await staff()).toEqual(['12 Cid', '5 Ann', '6 Ben']);
    }, 60_000);
  });
});
