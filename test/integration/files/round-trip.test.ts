import { readdirSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { FileSource } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { runSync } from '../../../src/connectors/run.js';
import { runExport } from '../../../src/export/run-export.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { exportFlow } from '../export/fixtures.js';
import { interopAvailable, startSshd, type Sshd } from '../export/system-servers.js';
import { pgpKeys, type PgpKeys } from './files-source.js';

const logger = pino({ level: 'silent' });

const COLUMNS = 'id bigint PRIMARY KEY, name text, note text, city text, born date, salary numeric(12,2), ratio numeric, active boolean, seen_at timestamptz, visits integer';
const NAMES = ['id', 'name', 'note', 'city', 'born', 'salary', 'ratio', 'active', 'seen_at', 'visits'];

/** Values CSV makes hard: delimiters, quotes and line breaks inside fields, NULL next to '', accents, microseconds. */
const ROWS_SQL = `
INSERT INTO staff VALUES
  (1, 'Zoë Müller', 'plain', 'Zürich', '1990-01-31', 1234.50, 0.000001, true, '2026-03-01 08:00:00.123456+00', 7),
  (2, 'Smith, "Jo"', '', NULL, NULL, NULL, NULL, false, NULL, NULL),
  (3, E'two\\nlines\\r\\nand CRLF', NULL, '', '2000-02-29', -0.05, 12345678901234567890.123456789, NULL, '1999-12-31 23:59:59+00', 0),
  (4, '  spaces kept  ', ',', '"', '1970-01-01', 0, -1, true, '2026-03-01 10:30:00+02', -2147483648),
  (5, 'José; Ångström; Øre', E'tab\\there', 'ß', '2026-12-31', 99999999.99, 1e-10, false, '2026-06-15 12:00:00.5+00', 2147483647)`;

const STAFF_FILE: FileSource = {
  pattern: 'staff-*.csv.gz.pgp',
  contents: 'Snapshot',
  orderCapture: '-(\\d+)\\.csv',
  // The export's defaults and the import's agree (UTF-8, comma, double quote, header, CRLF, "" is an
  // empty string and an empty field NULL); typed columns are read as the export writes them.
  columns: [
    { name: 'id', type: 'Integer' },
    { name: 'born', type: 'Date' },
    { name: 'salary', type: 'Decimal' },
    { name: 'ratio', type: 'Decimal' },
    { name: 'active', type: 'Boolean' },
    { name: 'seen_at', type: 'Timestamp' },
    { name: 'visits', type: 'Integer' },
  ],
};

/** A Ferry export (gzip + OpenPGP, signed) of one PostgreSQL table to real sshd, imported by a files-source flow into another. */
describe.skipIf(!interopAvailable)('round trip: a Ferry export imported by a files source, identical rows', () => {
  let keys: PgpKeys;
  let sshd: Sshd;
  let targets: Record<string, ExportTargetSpec>;
  let secrets: Record<string, Record<string, string>>;

  beforeAll(async () => {
    [keys, sshd] = await Promise.all([pgpKeys(), startSshd()]);
    targets = { sshd: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } } };
    secrets = {
      'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey },
      // The exporting side encrypts to our key and signs with the partner's; the importing side holds the other halves.
      recipient: { publicKey: keys.ours.publicKey },
      signer: { privateKey: keys.partner.privateKey },
      'payroll-pgp': { privateKey: keys.ours.privateKey, passphrase: 'open sesame' },
      'payroll-signer': { publicKey: keys.partner.publicKey },
    };
  }, 60_000);

  afterAll(async () => {
    await sshd?.close();
  });

  it('PostgreSQL -> CSV.gz.pgp on sshd -> PostgreSQL: every value as it was, deletions too', async () => {
    const [sourceUrl, exportState, targetUrl, importState] = await Promise.all([
      freshDatabase('rt_src'),
      freshDatabase('rt_export_state'),
      freshDatabase('rt_dst'),
      freshDatabase('rt_import_state'),
    ]);
    await withClient(sourceUrl, async (c) => {
      await c.query(`CREATE TABLE staff (${COLUMNS})`);
      await c.query(ROWS_SQL);
    });
    await withClient(targetUrl, (c) => c.query(`CREATE TABLE staff_copy (${COLUMNS})`));
    const fields = NAMES.map((n) => ({ source: n, target: n }));

    const exportSpec = exportFlow(
      {
        compression: 'Gzip',
        encryption: { recipients: [{ secretRef: { name: 'recipient' } }], signWith: { secretRef: { name: 'signer' } } },
        targets: [{ name: 'sshd' }],
        fileNameTemplate: '{entity}-{seq}',
      },
      [{ name: 'staff', source: { table: 'staff', keys: ['id'] }, target: { table: 'staff', keys: ['id'] }, fields }] as SyncFlowSpec['entities'],
    );
    const exportOnce = () => runExport({ flowId: 'default/hr-export', spec: exportSpec, mode: 'Full', sourceUrl, stateUrl: exportState, logger, export: { targets, secrets } });

    const importSpec = {
      direction: 'OneWay',
      source: { files: { exportTargetRef: { name: 'sshd' }, decryption: { secretRef: { name: 'payroll-pgp' }, verify: { secretRef: { name: 'payroll-signer' } } }, settleSeconds: 0 } },
      target: { postgres: { secretRef: { name: 'dst' } } },
      entities: [
        {
          name: 'staff',
          source: { table: 'staff', keys: ['id'], file: STAFF_FILE },
          target: { table: 'staff_copy', keys: ['id'] },
          fields,
          actions: ['createInTarget', 'updateTarget', 'deleteInTarget'],
        },
      ],
    } as SyncFlowSpec;
    const importOnce = (mode: 'Full' | 'Incremental') => runSync({ flowId: 'default/hr-import', spec: importSpec, mode, sourceUrl: '', targetUrl, stateUrl: importState, logger, files: { targets, secrets } });
    const select = `SELECT ${NAMES.join(', ')} FROM %s ORDER BY id`;
    // Text of every value, as PostgreSQL prints it, so a lost microsecond or a '' turned NULL shows.
    const textOf = (url: string, table: string) => sqlRows(url, select.replace('%s', table).replace(/SELECT .* FROM/, `SELECT ${NAMES.map((n) => `${n}::text`).join(', ')} FROM`));

    const first = await exportOnce();
    expect(first.failure).toBeUndefined();
    expect(readdirSync(sshd.uploadDir)).toEqual(['staff-001.csv.gz.pgp']);
    const imported = await importOnce('Full');
    expect(imported.totals).toMatchObject({ read: 5, created: 5, rejected: 0 });
    expect(await textOf(targetUrl, 'staff_copy')).toEqual(await textOf(sourceUrl, 'staff'));

    // The next day's snapshot: one person gone, one changed; a Full import follows (it compares snapshots, so sees deletions).
    await withClient(sourceUrl, (c) => c.query(`DELETE FROM staff WHERE id = 4; UPDATE staff SET note = NULL, city = '' WHERE id = 2`));
    expect((await exportOnce()).failure).toBeUndefined();
    const next = await importOnce('Full');
    expect(next.totals).toMatchObject({ read: 4, updated: 1, deleted: 1, rejected: 0 });
    expect(await textOf(targetUrl, 'staff_copy')).toEqual(await textOf(sourceUrl, 'staff'));
    expect((await importOnce('Incremental')).totals.read).toBe(0);
  }, 180_000);
});
