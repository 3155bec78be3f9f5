import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportSettings } from '../../../src/api/export-settings.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { mysqlFixture, type MysqlFixture } from '../../helpers/mysql-connector.js';
import { exportFlow, exportOnce, receivedFiles, startDestinations, type Destinations } from './fixtures.js';

// One table, declared in each system's equivalent types.
const PG_TABLE = `
CREATE TABLE things (
  id bigint PRIMARY KEY, name text, price numeric(10,2), ratio double precision, active boolean, created timestamp(6), seen timestamptz,
  born date, doc jsonb, data bytea, status text, tags text, qty integer, updated_at timestamptz NOT NULL
)`;
const MARIADB_TABLE = `
CREATE TABLE things (
  id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100), price DECIMAL(10,2), ratio DOUBLE, active TINYINT(1), created DATETIME(6), seen TIMESTAMP(6) NULL DEFAULT NULL,
  born DATE, doc JSON, data BLOB, status ENUM('new', 'done'), tags SET('a', 'b', 'c'), qty INT, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`;

const COLUMNS = ['id', 'name', 'price', 'ratio', 'active', 'created', 'seen', 'born', 'doc', 'data', 'status', 'tags', 'qty', 'updated_at'];

/** Rows as text; `seen` and `updated_at` are UTC; `data` is hex. */
const ROWS: (string | null)[][] = [
  ['1', 'Ann', '1.50', '0.25', '1', '2026-03-01 09:00:00', '2026-03-01 09:00:00.5', '2000-01-31', '{"b": 1, "a": [1, 2.50, {"y": null, "x": "é\\n"}], "aa": 1e2}', '00ff10', 'new', 'a,c', '7', '2026-03-01 09:00:00'],
  ['2', 'Bob "the" builder, jr', '-0.05', '-1.5', '0', '2026-03-01 09:00:00.123456', '2026-03-01 23:59:59.000001', null, '[]', '', 'done', '', null, '2026-03-01 09:00:00'],
  ['3', 'line one\nline two', null, null, null, null, null, '1999-12-31', null, null, null, null, '-3', '2026-03-01 09:00:00'],
  ['4', '', '0.00', '100', '1', '2026-02-28 23:00:00.1', '2026-03-02 00:00:00', '2026-03-01', '"just text"', '68656c6c6f', 'new', 'b', '0', '2026-03-02 10:00:00.25'],
  ['5', 'émile ✓ 😀', '12345678.90', '3', '0', '2026-03-01 12:00:00', '2026-03-01 12:00:00', '2026-03-01', '{"k": true, "n": -0.0, "e": 1.5E-3}', null, null, 'a,b,c', '2147483647', '2026-03-02 10:00:00.25'],
];

const THINGS = {
  name: 'things',
  source: { table: 'things', keys: ['id'], updatedAt: 'updated_at' },
  target: { table: 'things', keys: ['id'] },
  fields: COLUMNS.map((c) => ({ source: c, target: c })),
};

// Conditions, renamed fields and transforms, compiled by each connector.
const NEW_THINGS = {
  name: 'new_things',
  source: { table: 'things', keys: ['id'], conditions: [{ field: 'status', values: ['new'] }, { field: 'qty', operator: 'NotNull' as const }] },
  target: { table: 'new_things', keys: ['thing_id'] },
  fields: [
    { source: 'id', target: 'thing_id' },
    { source: 'name', target: 'shout', transform: 'Upper' as const },
    { source: 'name', target: 'whisper', transform: 'Lower' as const },
    { source: 'price', target: 'amount' },
  ],
};

function pgValues(row: (string | null)[]): (string | null)[] {
  return row.map((v, i) => {
    if (v === null) return null;
    if (COLUMNS[i] === 'active') return v === '1' ? 'true' : 'false';
    if (COLUMNS[i] === 'data') return `\\x${v}`;
    if (COLUMNS[i] === 'seen' || COLUMNS[i] === 'updated_at') return `${v}+00`;
    return v;
  });
}

describe('exports from MariaDB', () => {
  let servers: Destinations;
  let maria: MysqlFixture;
  let pgUrl: string;
  let stateUrl: string;
  let flows = 0;

  beforeAll(async () => {
    servers = await startDestinations();
    maria = await mysqlFixture('mariadb_export');
    [pgUrl, stateUrl] = await Promise.all([freshDatabase('exmysrc'), freshDatabase('exmystate')]);
    await withClient(pgUrl, async (c) => {
      await c.query(PG_TABLE);
      for (const row of ROWS) await c.query(`INSERT INTO things VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, pgValues(row));
    });
    await maria.exec(["SET time_zone = '+00:00'", MARIADB_TABLE]);
    for (const row of ROWS) {
      const params = COLUMNS.map((c) => (c === 'data' ? 'UNHEX(?)' : '?')).join(', ');
      await maria.exec(`INSERT INTO things VALUES (${params})`, row);
    }
  }, 120_000);
  afterAll(async () => {
    await servers?.close();
    await maria?.close();
  });

  const context = () => ({ targets: servers.targets, secrets: servers.secrets });

  /** Runs one export of `spec` from PostgreSQL or MariaDB and returns the files it delivered, by name. */
  async function exportFrom(system: 'postgres' | 'mysql', spec: SyncFlowSpec, mode = 'Incremental', flowId = `default/mx-${system}-${++flows}`) {
    const source = system === 'postgres' ? { postgres: { secretRef: { name: 'src' } } } : { mysql: { secretRef: { name: 'src' } } };
    const { report, failure } = await exportOnce({ sourceUrl: system === 'postgres' ? pgUrl : maria.url, stateUrl }, { ...spec, source }, context(), { flowId, mode });
    const received = receivedFiles(servers.sftpRoot);
    return { report, failure, files: report.export.files.map((f) => ({ name: f.name, content: received.get(f.name)! })) };
  }

  function flow(settings: Partial<ExportSettings>, entities: unknown[]): SyncFlowSpec {
    return exportFlow(settings, entities as SyncFlowSpec['entities']);
  }

  it.each(['Csv', 'JsonLines'] as const)('writes the same %s files as PostgreSQL for the same data (types, NULL, quoting, conditions, transforms)', async (format) => {
    const fromPg = await exportFrom('postgres', flow({ format, fileNameTemplate: `pg_${format}_{entity}_{seq}` }, [THINGS, NEW_THINGS]));
    const fromMaria = await exportFrom('mysql', flow({ format, fileNameTemplate: `maria_${format}_{entity}_{seq}` }, [THINGS, NEW_THINGS]));
    expect(fromPg.failure).toBeUndefined();
    expect(fromMaria.failure).toBeUndefined();
    expect(fromMaria.files.map((f) => f.name.replace('maria_', ''))).toEqual(fromPg.files.map((f) => f.name.replace('pg_', '')));
    for (const [i, file] of fromMaria.files.entries()) expect(file.content.toString('utf8')).toBe(fromPg.files[i].content.toString('utf8'));
    const things = fromMaria.files[0].content.toString('utf8');
    if (format === 'Csv') {
      expect(things).toContain('\r\n1,Ann,1.50,0.25,t,2026-03-01 09:00:00,2026-03-01 09:00:00.5+00,2000-01-31,"{""a"": [1, 2.50, {""x"": ""é\\n"", ""y"": null}], ""b"": 1, ""aa"": 100}",\\x00ff10,new,"a,c",7,2026-03-01 09:00:00+00\r\n');
      expect(things).toContain('\r\n3,"line one\nline two",,,,,,1999-12-31,,,,,-3,');
    } else {
      expect(JSON.parse(things.split('\n')[1])).toMatchObject({ id: 2, active: false, price: -0.05, seen: '2026-03-01T23:59:59.000001+00:00', doc: [], data: '\\x', tags: '', qty: null });
    }
    expect(fromMaria.files[1].content.toString('utf8').split(/\r?\n/).filter(Boolean).length).toBe(format === 'Csv' ? 3 : 2);
  });

  it('exports a free query the same way, and refuses anything but a SELECT without writing', async () => {
    const query = 'SELECT id, name, price * 2 AS double_price, active, created, data FROM things WHERE id <> 3';
    const fromPg = await exportFrom('postgres', flow({ query, fileNameTemplate: 'pg_query_{seq}' }, []));
    const fromMaria = await exportFrom('mysql', flow({ query, fileNameTemplate: 'maria_query_{seq}' }, []));
    expect(fromMaria.failure).toBeUndefined();
    expect(fromMaria.files[0].content.toString('utf8')).toBe(fromPg.files[0].content.toString('utf8'));

    const refused = await exportFrom('mysql', flow({ query: 'DELETE FROM things', fileNameTemplate: 'maria_delete_{seq}' }, []));
    expect(refused.report.export.creationStatus).toBe('Failed');
    expect(String(refused.failure)).toContain('spec.target.export.query');
    expect(await maria.query('SELECT COUNT(*) FROM things')).toEqual([[String(ROWS.length)]]);
  });

  it('Changes exports rows changed since the last export, tie-safe on a second-precision DATETIME cursor', async () => {
    await maria.exec([
      'CREATE TABLE members (id INT NOT NULL PRIMARY KEY, name VARCHAR(20), updated_at DATETIME NOT NULL) ENGINE=InnoDB',
      "INSERT INTO members VALUES (1, 'Ann', '2026-03-01 09:00:00'), (2, 'Bob', '2026-03-01 09:00:00'), (3, 'Cy', '2026-03-01 09:00:00')",
    ]);
    const members = {
      name: 'members',
      source: { table: 'members', keys: ['id'], updatedAt: 'updated_at' },
      target: { table: 'members', keys: ['id'] },
      fields: [
        { source: 'id', target: 'id' },
        { source: 'name', target: 'name' },
      ],
    };
    const spec = flow({ mode: 'Changes', fileNameTemplate: 'maria_changes_{date}{time}_{seq}' }, [members]);
    const run = async () => {
      const { files, failure } = await exportFrom('mysql', spec, 'Incremental', 'default/mx-changes');
      expect(failure).toBeUndefined();
      return { ids: files[0].content.toString('utf8').split('\r\n').slice(1, -1).map((l) => l.split(',')[0]) };
    };
    const first = await run();
    expect(first.ids).toEqual(['1', '2', '3']);
    // Same second as the watermark with a higher key, and a later change of an exported row.
    await maria.exec(["INSERT INTO members VALUES (4, 'Di', '2026-03-01 09:00:00')", "UPDATE members SET name = 'Bobby', updated_at = '2026-03-01 09:00:01' WHERE id = 2"]);
    expect((await run()).ids).toEqual(['4', '2']);
    expect((await run()).ids).toEqual([]);
  });

  it('streams a large table into split files without holding it', async () => {
    await maria.exec([
      'CREATE TABLE big (id INT NOT NULL PRIMARY KEY, label VARCHAR(40)) ENGINE=InnoDB',
      "INSERT INTO big SELECT seq, CONCAT('label ', seq) FROM seq_1_to_60000",
    ]);
    const big = { name: 'big', source: { table: 'big', keys: ['id'] }, target: { table: 'big', keys: ['id'] }, fields: [{ source: 'id', target: 'id' }, { source: 'label', target: 'label' }] };
    const { files, failure } = await exportFrom('mysql', flow({ split: { maxRows: 25_000 }, fileNameTemplate: 'maria_big_{seq}' }, [big]));
    expect(failure).toBeUndefined();
    expect(files.map((f) => f.content.toString('utf8').split('\r\n').length - 2)).toEqual([25_000, 25_000, 10_000]);
    const lines = files.flatMap((f) => f.content.toString('utf8').split('\r\n').slice(1, -1));
    expect(lines[0]).toBe('1,label 1');
    expect(lines[59_999]).toBe('60000,label 60000');
  });

  it('refuses an Events export from MariaDB, naming the field', async () => {
    const { report, failure } = await exportFrom('mysql', flow({ mode: 'Events', fileNameTemplate: 'maria_events_{seq}' }, [THINGS]));
    expect(report.export.creationStatus).toBe('Failed');
    expect(String(failure)).toContain('spec.target.export.mode: Events exports');
  });
});
