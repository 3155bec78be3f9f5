import mysql from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entity } from '../../../src/api/entity.js';
import { SOURCE_LAYOUT, type RowRejection, type Session, type StageRow } from '../../../src/engine/connector.js';
import { compareKeys } from '../../../src/engine/keys.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { connect } from '../../../src/connectors/mysql/connect.js';
import { openDb } from '../../../src/connectors/mysql/db.js';
import { MysqlSession } from '../../../src/connectors/mysql/session.js';
import { collect, mysqlFixture, planEntity, type MysqlFixture } from '../../helpers/mysql-connector.js';

let db: MysqlFixture;
let session: Session;

const THING_COLUMNS = ['flag', 'amount', 'at0', 'at3', 'at6', 'ts', 'doc', 'kind', 'tags', 'data', 'name', 'born', 'big'];

beforeAll(async () => {
  db = await mysqlFixture('mysql_write');
  await db.exec([
    `CREATE TABLE things (
       id INT NOT NULL PRIMARY KEY,
       flag TINYINT(1), amount DECIMAL(8,2), at0 DATETIME, at3 DATETIME(3), at6 DATETIME(6), ts TIMESTAMP(6) NULL,
       doc JSON, kind ENUM('a','b','c'), tags SET('x','y','z'), data BLOB, name VARCHAR(10), born DATE, big BIGINT,
       changed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
     ) ENGINE=InnoDB`,
    `CREATE TABLE old_things (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB DEFAULT CHARSET=latin1`,
    `CREATE TABLE members (code VARCHAR(20) NOT NULL PRIMARY KEY, email VARCHAR(50) UNIQUE, name VARCHAR(50),
       archived TINYINT(1) NOT NULL DEFAULT 0) ENGINE=InnoDB`,
    `CREATE TABLE parents (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB`,
    `CREATE TABLE children (id INT NOT NULL PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES parents (id)) ENGINE=InnoDB`,
    `CREATE TABLE posts (ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, post_title VARCHAR(30) NOT NULL, post_status VARCHAR(20)) ENGINE=InnoDB`,
    `CREATE TABLE tickets (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE) ENGINE=InnoDB`,
  ]);
  session = await db.open();
});

afterAll(async () => {
  await db?.close();
});

function identity(name: string, table: string, keys: string[], columns: string[], extra: Partial<Entity> = {}): Entity {
  return {
    name,
    source: { table, keys },
    target: { table, keys },
    fields: [...keys, ...columns].map((c) => ({ source: c, target: c })),
    ...extra,
  };
}

async function thingsPlan(): Promise<EntityPlan> {
  return planEntity(session, session, identity('things', 'things', ['id'], THING_COLUMNS));
}

function values(plan: EntityPlan, byColumn: Record<string, string | null>): (string | null)[] {
  return plan.fields.map((f) => byColumn[f.target] ?? null);
}

async function readBack(plan: EntityPlan, id: string): Promise<Record<string, string | null>> {
  const [row] = await collect(session.reader(plan).byKeys([[id]]));
  const first = SOURCE_LAYOUT.firstValue(plan);
  return Object.fromEntries([...plan.keyFields, ...plan.fields].map((f, i) => [f.source, row[first + i]]));
}

async function stageAndWrite(plan: EntityPlan, rows: StageRow[], mode: 'insert' | 'upsert' = 'upsert'): Promise<RowRejection[]> {
  const rejections: RowRejection[] = [];
  const writer = session.writer(plan);
  await session.begin();
  await writer.stageRows(rows, rejections);
  const refused = new Set(rejections.map((r) => r.seq));
  await writer.write(rows.map((r) => r.seq).filter((s) => !refused.has(s)), rejections, mode);
  await session.commit();
  return rejections;
}

describe('MariaDB writes: types', () => {
  it('round-trips booleans, decimals, datetimes in UTC, JSON, ENUM, SET, BLOB and big integers', async () => {
    const plan = await thingsPlan();
    const input = {
      flag: 't',
      amount: '12.5',
      at0: '2024-01-02 03:04:05+02:00',
      at3: '2024-01-02T03:04:05.123Z',
      at6: '2024-01-02 03:04:05.123456+00',
      ts: '2024-06-01 00:30:00-01:00',
      doc: '{"a": [1, "x"]}',
      kind: 'b',
      tags: 'x,z',
      data: '\\x00ff10',
      name: 'héllo',
      born: '2024-02-29',
      big: '9007199254740993',
    };
    const rejections = await stageAndWrite(plan, [
      { seq: 1, key: ['1'], values: values(plan, input) },
      { seq: 2, key: ['2'], values: values(plan, { flag: 'false', at0: '2024-01-02 03:04:05' }) },
      { seq: 3, key: ['3'], values: values(plan, { flag: '1', data: 'plain text' }) },
    ]);
    expect(rejections).toEqual([]);
    expect(await readBack(plan, '1')).toEqual({
      id: '1',
      flag: '1',
      amount: '12.50',
      at0: '2024-01-02 01:04:05',
      at3: '2024-01-02 03:04:05.123',
      at6: '2024-01-02 03:04:05.123456',
      ts: '2024-06-01 01:30:00.000000',
      doc: '{"a": [1, "x"]}',
      kind: 'b',
      tags: 'x,z',
      data: '\\x00ff10',
      name: 'héllo',
      born: '2024-02-29',
      big: '9007199254740993',
    });
    expect(await readBack(plan, '2')).toMatchObject({ flag: '0', at0: '2024-01-02 03:04:05', doc: null, data: null });
    expect(await readBack(plan, '3')).toMatchObject({ flag: '1', data: '\\x' + Buffer.from('plain text').toString('hex') });
  });

  it('rejects only the rows whose values the columns cannot hold, naming the column', async () => {
    const plan = await thingsPlan();
    const bad: [string, Record<string, string>][] = [
      ['name', { name: 'far too long for ten' }],
      ['amount', { amount: '1234567.89' }],
      ['at0', { at0: '0000-00-00 00:00:00' }],
      ['born', { born: '2024-02-30' }],
      ['kind', { kind: 'q' }],
      ['flag', { flag: 'maybe' }],
      ['data', { data: '\\xZZ' }],
      ['doc', { doc: '{bad' }],
      ['big', { big: '99999999999999999999' }],
    ];
    const rows: StageRow[] = bad.map(([, v], i) => ({ seq: 100 + i, key: [String(100 + i)], values: values(plan, v) }));
    rows.push({ seq: 200, key: ['200'], values: values(plan, { name: 'fine' }) });
    const rejections = await stageAndWrite(plan, rows);
    expect(rejections.map((r) => r.seq).sort()).toEqual(bad.map((_, i) => 100 + i));
    for (const [i, [column]] of bad.entries()) {
      const reason = rejections.find((r) => r.seq === 100 + i)!.reason;
      expect(reason, reason).toMatch(new RegExp(`^column ${column}: `));
      expect(reason).not.toMatch(/\n| at row \d/);
    }
    expect(await readBack(plan, '200')).toMatchObject({ name: 'fine' });
    expect((await db.query('SELECT COUNT(*) FROM things WHERE id BETWEEN 100 AND 199'))[0][0]).toBe('0');
  });

  it('rejects text a latin1 column cannot hold and keeps what it can', async () => {
    const plan = await planEntity(session, session, identity('old', 'old_things', ['id'], ['name']));
    const rejections = await stageAndWrite(plan, [
      { seq: 1, key: ['1'], values: ['café €'] },
      { seq: 2, key: ['2'], values: ['日本'] },
    ]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ seq: 2 });
    expect(rejections[0].reason).toMatch(/^column name: /);
    expect(await readBack(plan, '1')).toMatchObject({ name: 'café €' });
  });

  it('writes backslash, quote and NUL payloads unchanged, in keys and values', async () => {
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['name']));
    const payloads = ["a'b", 'c\\', "\\'; DROP TABLE members; --", 'nul\u0000byte', 'tab\tnew\nline\r', '\\N', '\\x41'];
    const rejections = await stageAndWrite(
      plan,
      payloads.map((p, i) => ({ seq: i, key: [`p${i}${p}`.slice(0, 20)], values: [p] })),
    );
    expect(rejections).toEqual([]);
    for (const [i, p] of payloads.entries()) expect(await readBack(plan, `p${i}${p}`.slice(0, 20))).toEqual({ code: `p${i}${p}`.slice(0, 20), name: p });
    await db.exec('DELETE FROM members');
  });
});

describe('MariaDB writes: hashes, upserts and deletes', () => {
  it('a row Ferry wrote hashes as expected, by key and in the drift stream, in key order', async () => {
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['email', 'name']));
    const writer = session.writer(plan);
    const codes = ['b', 'B', 'é', 'a', 'Z'].map((c, i) => `${c}${i}`);
    const rows = codes.map((code, seq) => ({ seq, key: [code], values: [`${code}@example.org`, seq === 0 ? null : seq === 1 ? '' : `name ${seq}`] }));
    await session.begin();
    const rejections: RowRejection[] = [];
    await writer.stageRows(rows, rejections);
    const expected = await writer.expectedHashes();
    await writer.write(rows.map((r) => r.seq), rejections, 'insert');
    await session.commit();
    expect(rejections).toEqual([]);
    const current = await writer.currentHashes(codes.map((c) => [c]));
    for (const row of rows) expect(current.get(row.key[0])).toBe(expected.get(row.seq));
    expect(expected.get(0)).not.toBe(expected.get(1));
    const streamed = await collect(writer.streamHashes());
    expect(streamed.map((r) => r[0])).toEqual([...codes].sort(compareKeys));
    for (const [code, hash] of streamed) expect(hash).toBe(current.get(code!));
    expect(await writer.isEmpty()).toBe(false);
  });

  it('upsert leaves unchanged rows untouched, updates changed ones and inserts new ones', async () => {
    const plan = await thingsPlan();
    await stageAndWrite(plan, [{ seq: 1, key: ['500'], values: values(plan, { name: 'same', flag: 't' }) }]);
    await db.exec("UPDATE things SET changed_at = '2001-01-01 00:00:00' WHERE id = 500");
    await stageAndWrite(plan, [{ seq: 1, key: ['500'], values: values(plan, { name: 'same', flag: 'true' }) }]);
    expect((await db.query('SELECT CAST(changed_at AS CHAR) FROM things WHERE id = 500'))[0][0]).toBe('2001-01-01 00:00:00');
    await stageAndWrite(plan, [
      { seq: 1, key: ['500'], values: values(plan, { name: 'SAME', flag: 'true' }) },
      { seq: 2, key: ['501'], values: values(plan, { name: 'new' }) },
    ]);
    expect((await db.query('SELECT name, CAST(changed_at AS CHAR) > 2002 FROM things WHERE id = 500'))[0]).toEqual(['SAME', '1']);
    expect(await readBack(plan, '501')).toMatchObject({ name: 'new' });
  });

  it('insert rejects a key that exists; upsert rejects a clash on another unique index instead of overwriting that row', async () => {
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['email', 'name']));
    await stageAndWrite(plan, [{ seq: 1, key: ['u1'], values: ['one@example.org', 'One'] }]);
    const clash = await stageAndWrite(plan, [{ seq: 7, key: ['u1'], values: ['x@example.org', 'Other'] }], 'insert');
    expect(clash).toHaveLength(1);
    expect(clash[0].reason).toMatch(/Duplicate entry/);
    const other = await stageAndWrite(plan, [
      { seq: 8, key: ['u2'], values: ['one@example.org', 'Thief'] },
      { seq: 9, key: ['u3'], values: ['three@example.org', 'Three'] },
    ]);
    expect(other.map((r) => r.seq)).toEqual([8]);
    expect(await db.query("SELECT code, name FROM members WHERE code IN ('u1', 'u2', 'u3') ORDER BY code")).toEqual([
      ['u1', 'One'],
      ['u3', 'Three'],
    ]);
  });

  it('a key that differs only in case from a stored key of a case-insensitive column is rejected, not merged', async () => {
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['name']));
    await stageAndWrite(plan, [{ seq: 1, key: ['case'], values: ['lower'] }]);
    const rejections = await stageAndWrite(plan, [{ seq: 2, key: ['CASE'], values: ['upper'] }]);
    expect(rejections.map((r) => r.seq)).toEqual([2]);
    expect(rejections[0].reason).toMatch(/Duplicate entry/);
    expect(await db.query("SELECT code, name FROM members WHERE code = 'case'")).toEqual([['case', 'lower']]);
  });

  it('archives and restores by exact key, with the archive value as a parameter', async () => {
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['name'], {
      target: { table: 'members', keys: ['code'], archive: { column: 'archived' } },
    }));
    await stageAndWrite(plan, [
      { seq: 1, key: ['arch'], values: ['A'] },
      { seq: 2, key: ['ARCH2'], values: ['B'] },
    ]);
    const writer = session.writer(plan);
    await writer.setArchived([['arch'], ['arch2']], true);
    expect(await db.query("SELECT code, archived FROM members WHERE code IN ('arch', 'ARCH2') ORDER BY code")).toEqual([
      ['arch', '1'],
      ['ARCH2', '0'],
    ]);
    await writer.setArchived([['arch']], false);
    expect((await db.query("SELECT archived FROM members WHERE code = 'arch'"))[0][0]).toBe('0');
  });

  it('deletes by key and rejects alone a row that is still referenced', async () => {
    await db.exec(["INSERT INTO parents VALUES (1, 'a'), (2, 'b'), (3, 'c')", 'INSERT INTO children VALUES (10, 2)']);
    const plan = await planEntity(session, session, identity('parents', 'parents', ['id'], ['name']));
    const refused: [string[], string][] = [];
    await session.begin();
    const deleted = await session.writer(plan).deleteRows([['1'], ['2'], ['3'], ['4']], (key, reason) => refused.push([key, reason]));
    await session.commit();
    expect(deleted).toBe(2);
    expect(refused.map(([key]) => key)).toEqual([['2']]);
    expect(refused[0][1]).toMatch(/foreign key constraint/i);
    expect(await db.query('SELECT id FROM parents')).toEqual([['2']]);
  });

  it('finds matches by normalised columns, compared exactly', async () => {
    await db.exec("INSERT INTO members (code, email, name) VALUES ('m1', ' Ann@Example.org', 'Ann'), ('m2', 'bob@example.org', 'Bob')");
    const plan = await planEntity(session, session, identity('members', 'members', ['code'], ['name'], {
      match: [{ source: 'email', target: 'email', normalize: 'LowerTrim' }],
    }));
    const found = await session.writer(plan).findMatches([['ann@example.org'], ['BOB@example.org'], ["x'\\"]]);
    expect([...found.entries()]).toEqual([['ann@example.org', ['m1']]]);
  });
});

async function withConcurrentWriter<T>(work: () => Promise<T>): Promise<{ result: T; interleaved: number }> {
  const other = mysql.createConnection({ uri: db.url });
  let stop = false;
  let interleaved = 0;
  const noise = (async () => {
    while (!stop) {
      await other.promise().query("INSERT INTO posts (post_title, post_status) VALUES ('noise', 'other')");
      interleaved++;
    }
  })();
  try {
    return { result: await work(), interleaved };
  } finally {
    stop = true;
    await noise;
    await other.promise().end();
  }
}

/** A session as on MySQL 8: no INSERT ... RETURNING, LOCAL INFILE off. */
async function mysql8Session(): Promise<Session> {
  const { connection } = await connect(db.url, 'the test database');
  return new MysqlSession(openDb(connection, 'the test database', db.url), { returning: false, localInfile: false });
}

describe('MariaDB writes: generated keys', () => {
  async function postsPlan(): Promise<EntityPlan> {
    return planEntity(session, session, {
      name: 'posts',
      source: { table: 'posts', keys: ['ID'] },
      target: { table: 'posts', keys: ['ID'] },
      fields: [
        { source: 'post_title', target: 'post_title' },
        { source: 'post_status', target: 'post_status' },
      ],
    });
  }

  it('reads AUTO_INCREMENT ids back row by row while another writer inserts', async () => {
    const plan = await postsPlan();
    expect(plan.target.keyMode).toBe('generated');
    expect(session.capabilities.generatedKeys).toBe('returned');
    await expect(session.writer(plan).allocateKeys(1)).rejects.toThrow(/AUTO_INCREMENT/);

    const other = mysql.createConnection({ uri: db.url });
    let stop = false;
    let interleaved = 0;
    const noise = (async () => {
      while (!stop) {
        await other.promise().query("INSERT INTO posts (post_title, post_status) VALUES ('noise', 'other')");
        interleaved++;
      }
    })();
    try {
      const writer = session.writer(plan);
      const rejections: RowRejection[] = [];
      const result = new Map<number, { key: string[]; hash: string }>();
      for (let batch = 0; batch < 5; batch++) {
        const rows = Array.from({ length: 400 }, (_, i) => {
          const seq = batch * 1000 + i;
          return { seq, values: [seq === 17 ? 'x'.repeat(40) : `title ${seq}`, 'publish'] };
        });
        await session.begin();
        for (const [seq, got] of await writer.insertReturningKeys(rows, rejections)) result.set(seq, got);
        await session.commit();
      }
      expect(rejections.map((r) => r.seq)).toEqual([17]);
      expect(rejections[0].reason).toMatch(/^column post_title: /);
      expect(result.size).toBe(1999);
      const titles = new Map((await db.query("SELECT CAST(ID AS CHAR), post_title FROM posts WHERE post_status = 'publish'")).map(([id, t]) => [id, t]));
      for (const [seq, { key, hash }] of result) {
        expect(titles.get(key[0])).toBe(`title ${seq}`);
        expect(hash).toMatch(/^[0-9a-f]{32}$/);
      }
      const hashes = await writer.currentHashes([...result.values()].map((r) => r.key));
      for (const { key, hash } of result.values()) expect(hashes.get(plan.target.codec.encode(key)!)).toBe(hash);
    } finally {
      stop = true;
      await noise;
      await other.promise().end();
    }
    expect(interleaved).toBeGreaterThan(0);
  });
  it('a row the insert refuses (unique clash) is rejected alone; the batch and earlier work in the transaction stay', async () => {
    const plan = await planEntity(session, session, { name: 'tickets', source: { table: 'tickets', keys: ['id'] }, target: { table: 'tickets', keys: ['id'] }, fields: [{ source: 'code', target: 'code' }] });
    const writer = session.writer(plan);
    const rejections: RowRejection[] = [];
    await session.begin();
    const first = await writer.insertReturningKeys([{ seq: 0, values: ['A'] }, { seq: 1, values: ['B'] }], rejections);
    const second = await writer.insertReturningKeys(
      Array.from({ length: 50 }, (_, i) => ({ seq: i, values: [i === 31 ? 'A' : `c${i}`] })),
      rejections,
    );
    await session.commit();
    expect(rejections.map((r) => r.seq)).toEqual([31]);
    expect(rejections[0].reason).toMatch(/Duplicate entry 'A'/);
    expect([first.size, second.size]).toEqual([2, 49]);
    const stored = new Map((await db.query('SELECT CAST(id AS CHAR), code FROM tickets')).map(([id, code]) => [id, code]));
    expect(stored.size).toBe(51);
    for (const [seq, { key }] of second) expect(stored.get(key[0])).toBe(`c${seq}`);
    const hashes = await writer.currentHashes([...first.values(), ...second.values()].map((r) => r.key));
    for (const { key, hash } of [...first.values(), ...second.values()]) expect(hashes.get(plan.target.codec.encode(key)!)).toBe(hash);
  });
});

describe('MySQL 8 paths (no RETURNING, no LOCAL INFILE)', () => {
  it('stages with multi-row inserts and rejects single rows naming the column', async () => {
    const legacy = await mysql8Session();
    try {
      const plan = await planEntity(legacy, legacy, identity('things', 'things', ['id'], THING_COLUMNS));
      const writer = legacy.writer(plan);
      const rows: StageRow[] = Array.from({ length: 300 }, (_, i) => ({
        seq: i,
        key: [String(1000 + i)],
        values: values(plan, { name: i === 123 ? 'much too long' : `n${i}`, data: "a'\\b\u0000", flag: 'f', at6: '2024-01-01 00:00:00.5+01:00' }),
      }));
      const rejections: RowRejection[] = [];
      await legacy.begin();
      await writer.stageRows(rows, rejections);
      await writer.write(rows.map((r) => r.seq).filter((s) => s !== 123), rejections, 'upsert');
      await legacy.commit();
      expect(rejections.map((r) => r.seq)).toEqual([123]);
      expect(rejections[0].reason).toMatch(/^column name: Data too long/);
      expect(await readBack(plan, '1001')).toMatchObject({ name: 'n1', flag: '0', at6: '2023-12-31 23:00:00.500000', data: '\\x' + Buffer.from("a'\\b\u0000").toString('hex') });
    } finally {
      await legacy.close();
    }
  });

  it('reads AUTO_INCREMENT ids back one row at a time with LAST_INSERT_ID while another writer inserts', async () => {
    const legacy = await mysql8Session();
    try {
      const plan = await planEntity(legacy, legacy, {
        name: 'posts',
        source: { table: 'posts', keys: ['ID'] },
        target: { table: 'posts', keys: ['ID'] },
        fields: [
          { source: 'post_title', target: 'post_title' },
          { source: 'post_status', target: 'post_status' },
        ],
      });
      const writer = legacy.writer(plan);
      const { result, interleaved } = await withConcurrentWriter(async () => {
        const rejections: RowRejection[] = [];
        await legacy.begin();
        const got = await writer.insertReturningKeys(
          Array.from({ length: 200 }, (_, i) => ({ seq: i, values: [`legacy ${i}`, 'draft'] })),
          rejections,
        );
        await legacy.commit();
        expect(rejections).toEqual([]);
        return got;
      });
      expect(interleaved).toBeGreaterThan(0);
      expect(result.size).toBe(200);
      const titles = new Map((await db.query("SELECT CAST(ID AS CHAR), post_title FROM posts WHERE post_status = 'draft'")).map(([id, t]) => [id, t]));
      for (const [seq, { key }] of result) expect(titles.get(key[0])).toBe(`legacy ${seq}`);
    } finally {
      await legacy.close();
    }
  });
});
