import mysql from 'mysql2';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { connect } from '../../../src/connectors/mysql/connect.js';
import { mysqlConnector } from '../../../src/connectors/mysql/index.js';
import { closureGraph } from '../../../src/engine/closure-plan.js';
import { SOURCE_LAYOUT, type Session } from '../../../src/engine/connector.js';
import { planFlow } from '../../../src/engine/plan.js';
import { collect, mysqlFixture, planEntity, type MysqlFixture } from '../../helpers/mysql-connector.js';

let db: MysqlFixture;
let session: Session;

beforeAll(async () => {
  db = await mysqlFixture('mysql_session');
  await db.exec([
    `CREATE TABLE firms (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_german1_ci NOT NULL,
       updated_at DATETIME(3) NOT NULL) ENGINE=InnoDB`,
    `CREATE TABLE people (id BIGINT NOT NULL PRIMARY KEY, firm_id INT, name TEXT, active TINYINT(1) NOT NULL DEFAULT 1) ENGINE=InnoDB`,
    `CREATE TABLE interests (person_id BIGINT NOT NULL, code VARCHAR(10) COLLATE utf8mb4_nopad_bin NOT NULL, PRIMARY KEY (person_id, code)) ENGINE=InnoDB`,
    `CREATE TABLE legacy (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=MyISAM`,
  ]);
  session = await db.open();
});

afterAll(async () => {
  await db?.close();
});

describe('MariaDB session', () => {
  it('reads the catalog: base types in lower case, AUTO_INCREMENT as generated, character sets in the declared type', async () => {
    const catalog = await session.readCatalog('', ['firms', 'people', 'missing']);
    expect([...catalog.keys()].sort()).toEqual(['firms', 'people']);
    const firms = catalog.get('firms')!;
    expect(firms.schema).toBe(new URL(db.url).pathname.slice(1));
    expect(firms.limitations).toEqual([]);
    expect(firms.columns.get('id')).toMatchObject({ typeName: 'int', generated: true, notNull: true, identity: '' });
    expect(firms.columns.get('name')).toMatchObject({ typeName: 'varchar', sqlType: 'varchar(40) CHARACTER SET latin1 COLLATE latin1_german1_ci', generated: false });
    expect(firms.columns.get('updated_at')).toMatchObject({ typeName: 'datetime', sqlType: 'datetime(3)' });
    const people = catalog.get('people')!;
    expect(people.columns.get('active')).toMatchObject({ typeName: 'tinyint', sqlType: 'tinyint(1)', notNull: true, generated: false });
    expect(people.columns.get('id')).toMatchObject({ typeName: 'bigint', generated: false, defaultExpr: null });
    const named = await session.readCatalog(firms.schema, ['people']);
    expect(named.get('people')?.schema).toBe(firms.schema);
  });

  it('reports a table that cannot roll back (MyISAM) in its limitations', async () => {
    const legacy = (await session.readCatalog('', ['legacy'])).get('legacy')!;
    expect(legacy.limitations).toHaveLength(1);
    expect(legacy.limitations![0]).toMatch(/legacy.*MyISAM.*cannot roll back/);
  });

  it('finds RETURNING and LOCAL INFILE on the test server (started with --local-infile=1; MariaDB shows it as ON)', async () => {
    const { connection, features } = await connect(db.url, 'the test database');
    connection.destroy();
    expect(features).toEqual({ returning: true, localInfile: true });
  });

  it('declares its capabilities', () => {
    expect(session.capabilities).toEqual({ orderedScan: true, transactions: true, sharedSnapshot: false, generatedKeys: 'returned', changeFeed: 'poll' });
  });

  it('rolls back a unit of work and to a savepoint', async () => {
    const plan = await planEntity(session, session, {
      name: 'people',
      source: { table: 'people', keys: ['id'] },
      target: { table: 'people', keys: ['id'] },
      fields: ['id', 'name'].map((c) => ({ source: c, target: c })),
    });
    const writer = session.writer(plan);
    const write = async (id: string) => {
      await writer.stageRows([{ seq: 1, key: [id], values: [`p${id}`] }], []);
      await writer.write([1], [], 'upsert');
    };
    await session.begin();
    await write('1');
    await session.rollback();
    await session.begin();
    await write('2');
    await session.savepoint('unit_1');
    await write('3');
    await session.rollbackToSavepoint('unit_1');
    await session.savepoint('unit_2');
    await write('4');
    await session.releaseSavepoint('unit_2');
    await session.commit();
    expect(await db.query('SELECT id FROM people ORDER BY id')).toEqual([['2'], ['4']]);
  });

  it('reads one consistent snapshot while others write', async () => {
    const plan = await planEntity(session, session, {
      name: 'people',
      source: { table: 'people', keys: ['id'] },
      target: { table: 'people', keys: ['id'] },
      fields: ['id', 'name'].map((c) => ({ source: c, target: c })),
    });
    const reader = await db.open();
    expect(await reader.beginSnapshot()).toBeUndefined();
    const before = (await collect(reader.reader(plan).scan(false))).length;
    await db.exec("INSERT INTO people (id, name) VALUES (100, 'late')");
    expect((await collect(reader.reader(plan).scan(false))).length).toBe(before);
    await reader.endSnapshot();
    expect((await collect(reader.reader(plan).scan(false))).length).toBe(before + 1);
    const joined = await db.open();
    await joined.joinSnapshot(undefined);
    await db.exec("INSERT INTO people (id, name) VALUES (101, 'later')");
    expect((await collect(joined.reader(plan).scan(false))).length).toBe(before + 1);
    await joined.endSnapshot();
  });

  it('reads Record closures and prefetches rows by key, exactly', async () => {
    await db.exec([
      "INSERT INTO firms (id, name, updated_at) VALUES (1, 'Acme', '2024-01-01 00:00:00'), (2, 'Bolt', '2024-01-01 00:00:00')",
      "INSERT INTO people (id, firm_id, name) VALUES (10, 1, 'Ann'), (11, 2, 'Bob'), (12, NULL, 'Cy')",
      "INSERT INTO interests VALUES (10, 'golf'), (10, 'GOLF '), (11, 'chess')",
    ]);
    const spec: SyncFlowSpec = {
      direction: 'OneWay',
      source: { mysql: { secretRef: { name: 'src' } } },
      target: { mysql: { secretRef: { name: 'dst' } } },
      entities: [
        { name: 'firms', source: { table: 'firms', keys: ['id'], updatedAt: 'updated_at' }, target: { table: 'firms', keys: ['id'] }, fields: [{ source: 'name', target: 'name' }] },
        {
          name: 'people',
          source: { table: 'people', keys: ['id'] },
          target: { table: 'people', keys: ['id'] },
          fields: [
            { source: 'id', target: 'id' },
            { source: 'firm_id', target: 'firm_id', lookup: 'firms' },
            { source: 'name', target: 'name' },
          ],
          related: [{ entity: 'interests' }],
        },
        {
          name: 'interests',
          source: { table: 'interests', keys: ['person_id', 'code'] },
          target: { table: 'interests', keys: ['person_id', 'code'] },
          fields: [
            { source: 'person_id', target: 'person_id', lookup: 'people' },
            { source: 'code', target: 'code' },
          ],
        },
      ],
    };
    const catalog = await session.readCatalog('', ['firms', 'people', 'interests']);
    const flow = planFlow(withFlowDefaults(spec), (_side, table) => catalog.get(table));
    const plans = new Map(flow.entities.map((p) => [p.name, p]));
    const graph = closureGraph(withFlowDefaults(spec));
    const source = session.closureSource(plans, graph);
    const link = graph.get('people')!.children[0];
    const [people, interests] = await source.read([
      { kind: 'keys', entity: 'people', keys: [['10'], ['12'], ['99']] },
      { kind: 'children', link, values: ['10'] },
    ]);
    expect(people.sort((a, b) => a.key[0].localeCompare(b.key[0]))).toEqual([
      { key: ['10'], refs: { firm_id: '1' } },
      { key: ['12'], refs: { firm_id: null } },
    ]);
    expect(interests.map((r) => r.key).sort()).toEqual([['10', 'GOLF '], ['10', 'golf']]);

    const [interestRows, firmRows] = await session.prefetch([
      { plan: plans.get('interests')!, keys: [['10', 'golf'], ['10', 'GOLF'], ['11', 'chess']] },
      { plan: plans.get('firms')!, keys: [['2']] },
    ]);
    expect(interestRows.map((r) => r.slice(0, 2))).toEqual([['10', 'golf'], ['11', 'chess']]);
    const firmsPlan = plans.get('firms')!;
    expect(firmRows[0].slice(SOURCE_LAYOUT.firstValue(firmsPlan))).toEqual(['Bolt']);
    expect(firmRows[0][SOURCE_LAYOUT.cursor(firmsPlan)]).toBe('2024-01-01 00:00:00.000');
  });
});

describe('MariaDB connection errors', () => {
  it('are one line naming the system, with the password masked', async () => {
    const url = new URL(db.url);
    url.password = 'n0t-the-Secret';
    const error = await mysqlConnector(url.toString(), 'the source database')
      .open()
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot connect to the source database at mysql:\/\/ferry:\*\*\*@127\.0\.0\.1:\d+\/\S+: Access denied/);
    expect(message).not.toContain('n0t-the-Secret');
    expect(message).not.toContain('\n');

    url.port = '1';
    const refused = await mysqlConnector(url.toString(), 'the target database')
      .open()
      .then(() => undefined, (e: unknown) => e);
    expect((refused as Error).message).toMatch(/^cannot connect to the target database at mysql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/\S+: .*ECONNREFUSED/);
  });

  it('a connection lost mid-scan fails the read with one line naming the system', async () => {
    await db.exec('CREATE TABLE numbers (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))');
    // ~15 MB on the wire, more than loopback's socket buffers hold: the scan is still being sent when it is killed
    // (50,000 short rows fit in them, the server finished before the 100th row was read, and nothing was killed).
    await db.exec("INSERT INTO numbers SELECT seq, CONCAT('v', seq, REPEAT('x', 10)) FROM seq_1_to_500000");
    const victim = await mysqlConnector(db.url, 'the source database').open();
    const plan = await planEntity(victim, victim, {
      name: 'numbers',
      source: { table: 'numbers', keys: ['id'] },
      target: { table: 'numbers', keys: ['id'] },
      fields: ['id', 'v'].map((c) => ({ source: c, target: c })),
    });
    const admin = mysql.createConnection({ uri: db.url });
    let seen = 0;
    const failure = await (async () => {
      try {
        for await (const _row of victim.reader(plan).scan(true)) {
          if (++seen === 100) {
            const [rows] = await admin.promise().query({
              sql: "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE '%FROM `%`.`numbers`%' AND ID <> CONNECTION_ID()",
              rowsAsArray: true,
            });
            for (const row of Array.isArray(rows) ? rows : []) if (Array.isArray(row)) await admin.promise().query(`KILL ${Number(row[0])}`);
          }
        }
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    await admin.promise().end();
    await victim.close().catch(() => {});
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toMatch(/^lost the connection to the source database at mysql:\/\/ferry:\*\*\*@/);
    expect(message).not.toContain(decodeURIComponent(new URL(db.url).password));
    expect(message).not.toContain('\n');
  });
});
