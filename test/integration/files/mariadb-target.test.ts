import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase } from '../../helpers/databases.js';
import { mysqlFixture, type MysqlFixture } from '../../helpers/mysql-connector.js';
import { drop, filesFlowSpec, inbox } from './files-source.js';

const logger = pino({ level: 'silent' });

const SNAPSHOT: FileSource = {
  pattern: 'employees-*.csv',
  contents: 'Snapshot',
  orderCapture: '-(\\d{8})\\.csv',
  csv: { delimiter: ';', decimalSeparator: ',' },
  columns: [
    { name: 'salary', type: 'Decimal' },
    { name: 'born', type: 'Date' },
  ],
  dateFormat: 'DD.MM.YYYY',
};
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\r\n');

/** A daily snapshot file into a real MariaDB table: created, changed, and a person gone from the file deleted there. */
describe('files source into a MariaDB target', () => {
  let db: MysqlFixture;
  let dir: string;
  let stateUrl: string;

  beforeAll(async () => {
    [db, dir, stateUrl] = await Promise.all([mysqlFixture('files_maria'), inbox(), freshDatabase('files_maria_state')]);
    await db.exec(
      'CREATE TABLE staff (id bigint AUTO_INCREMENT PRIMARY KEY, employee_no varchar(20) NOT NULL UNIQUE, name varchar(100), note varchar(100), salary decimal(10,2), born date, archived boolean NOT NULL DEFAULT false) CHARACTER SET utf8mb4',
    );
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  const spec = () => {
    const flow = filesFlowSpec({ directory: dir, settleSeconds: 0 }, SNAPSHOT);
    flow.target = { mysql: { secretRef: { name: 'dst' } } };
    // Deleted, not archived: the person is gone from the table.
    delete (flow.entities[0]!.target as { archive?: unknown }).archive;
    return flow;
  };
  const run = (mode: 'Full' | 'Incremental') => runSync({ flowId: 'test/maria', spec: spec(), mode, sourceUrl: '', targetUrl: db.url, stateUrl, logger, files: { targets: {}, secrets: {} } });
  const staff = () => db.query('SELECT employee_no, name, note, salary, born FROM staff ORDER BY employee_no');

  it('Full runs of daily snapshots: creates, updates and deletes the person no longer in the file', async () => {
    await drop(dir, 'employees-20261101.csv', Buffer.from(csv('1;Zoë Müller;"a;b";3200,50;01.02.1980', '2;José;"";2800;15.11.1975', '3;Ana;;;')));
    expect((await run('Full')).totals).toMatchObject({ read: 3, created: 3, rejected: 0 });
    expect(await staff()).toEqual([
      ['1', 'Zoë Müller', 'a;b', '3200.50', '1980-02-01'],
      ['2', 'José', '', '2800.00', '1975-11-15'],
      ['3', 'Ana', null, null, null],
    ]);

    await drop(dir, 'employees-20261102.csv', Buffer.from(csv('1;Zoë Müller;"a;b";3300,00;01.02.1980', '3;Ana;;;')));
    expect((await run('Full')).totals).toMatchObject({ read: 2, updated: 1, deleted: 1, rejected: 0 });
    expect(await staff()).toEqual([
      ['1', 'Zoë Müller', 'a;b', '3300.00', '1980-02-01'],
      ['3', 'Ana', null, null, null],
    ]);
    // Nothing new: the next run reads only the listing.
    expect((await run('Incremental')).totals.read).toBe(0);
  }, 120_000);
});
