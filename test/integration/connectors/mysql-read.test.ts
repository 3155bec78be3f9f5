import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_LAYOUT, type Session } from '../../../src/engine/connector.js';
import { compareKeys } from '../../../src/engine/keys.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { collect, mysqlFixture, planEntity, type MysqlFixture } from '../../helpers/mysql-connector.js';

// Tricky text keys: mixed case, accents, spaces, symbols, CJK and an emoji (4-byte UTF-8).
const TEXT_KEYS = ['Zebra', 'apple', 'Émile', 'eagle', 'a b', 'a', 'abc ', 'Abd', '_x', '~', '日本', '😀', 'ß', 'Ω', ''];

let db: MysqlFixture;
let session: Session;

beforeAll(async () => {
  db = await mysqlFixture('mysql_read');
  await db.exec([
    // The server's default collation: case- and accent-insensitive, PAD SPACE.
    'CREATE TABLE words (code VARCHAR(20) NOT NULL PRIMARY KEY, name VARCHAR(50), note TEXT, updated_at DATETIME NOT NULL) ENGINE=InnoDB',
    'CREATE TABLE old_words (code VARCHAR(20) CHARACTER SET latin1 NOT NULL PRIMARY KEY, name VARCHAR(50) CHARACTER SET latin1) ENGINE=InnoDB',
    // A key column without a unique index: 'a' and 'a ' are equal under PAD SPACE, distinct to the engine.
    'CREATE TABLE tags (id INT NOT NULL PRIMARY KEY, label VARCHAR(20) COLLATE utf8mb4_bin NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE=InnoDB',
    'CREATE TABLE numbers (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(10)) ENGINE=InnoDB',
    'CREATE TABLE unsigned_numbers (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(10)) ENGINE=InnoDB',
    'CREATE TABLE pairs (n INT NOT NULL, t VARCHAR(10) COLLATE utf8mb4_nopad_bin NOT NULL, v VARCHAR(10), PRIMARY KEY (n, t)) ENGINE=InnoDB',
    'CREATE TABLE events (id INT NOT NULL PRIMARY KEY, title VARCHAR(50), status VARCHAR(10), updated_at DATETIME NOT NULL) ENGINE=InnoDB',
  ]);
  for (const [i, code] of TEXT_KEYS.entries()) {
    await db.exec('INSERT INTO words VALUES (?, ?, ?, ?)', [code, `name ${i}`, i % 3 === 0 ? null : i % 3 === 1 ? '' : 'x', '2024-05-01 10:00:00']);
  }
  for (const code of ['Z', 'é', 'f', 'G ', 'ä', 'b']) await db.exec('INSERT INTO old_words VALUES (?, ?)', [code, code]);
  const labels = ['a', 'a ', 'A', 'b', 'a  '];
  for (const [i, label] of labels.entries()) await db.exec('INSERT INTO tags VALUES (?, ?, ?)', [i + 1, label, '2024-05-01 10:00:00.000001']);
  for (const id of ['-9223372036854775808', '-5', '0', '7', '10', '9223372036854775807']) await db.exec('INSERT INTO numbers VALUES (?, ?)', [id, 'n']);
  for (const id of ['18446744073709551615', '0', '9223372036854775808', '9999999999999999999', '10000000000000000000', '42']) await db.exec('INSERT INTO unsigned_numbers VALUES (?, ?)', [id, 'n']);
  for (const [n, t] of [[2, 'b'], [10, 'a'], [2, 'B'], [-1, 'z'], [2, 'a ']] as const) await db.exec('INSERT INTO pairs VALUES (?, ?, ?)', [n, t, 'v']);
  session = await db.open();
});

afterAll(async () => {
  await db?.close();
});

function plan(table: string, keys: string[], fields: string[], extra: { updatedAt?: string; conditions?: { field: string; operator?: 'In' | 'NotIn' | 'IsNull' | 'NotNull'; values?: string[] }[] } = {}): Promise<EntityPlan> {
  return planEntity(session, session, {
    name: table,
    source: { table, keys, updatedAt: extra.updatedAt, conditions: extra.conditions },
    target: { table, keys },
    fields: [...keys, ...fields].map((c) => ({ source: c, target: c })),
  });
}

function encodedKeys(p: EntityPlan, rows: (string | null)[][]): string[] {
  return rows.map((row) => p.source.codec.encode(row.slice(0, p.source.keys.length))!);
}

function isSorted(keys: string[]): boolean {
  return keys.every((k, i) => i === 0 || compareKeys(keys[i - 1], k) < 0);
}

describe('MariaDB reads: order and exactness', () => {
  it('scans text keys in the engine order (UTF-8 bytes), not the column collation', async () => {
    const p = await plan('words', ['code'], ['name']);
    const rows = await collect(session.reader(p).scan(false));
    const keys = encodedKeys(p, rows);
    expect(keys).toEqual([...TEXT_KEYS].sort(compareKeys));
    expect(isSorted(keys)).toBe(true);
  });

  it('scans latin1 keys in the order of their UTF-8 text', async () => {
    const p = await plan('old_words', ['code'], ['name']);
    const keys = encodedKeys(p, await collect(session.reader(p).scan(true)));
    expect(keys).toEqual(['Z', 'é', 'f', 'G ', 'ä', 'b'].sort(compareKeys));
  });

  it('keeps trailing spaces and case apart in order and in reads by key', async () => {
    const p = await plan('tags', ['label'], ['id']);
    const reader = session.reader(p);
    const keys = encodedKeys(p, await collect(reader.scan(false)));
    expect(keys).toEqual(['A', 'a', 'a ', 'a  ', 'b']);
    const found = await collect(reader.byKeys([['a'], ['A']]));
    expect(found.map((r) => r[0]).sort()).toEqual(['A', 'a']);
    expect(await collect(reader.byKeys([['a   ']]))).toEqual([]);
  });

  it('reads by key exactly where the collation would match more', async () => {
    const p = await plan('words', ['code'], ['name']);
    const reader = session.reader(p);
    expect((await collect(reader.byKeys([['APPLE'], ['emile'], ['abc']]))).length).toBe(0);
    const rows = await collect(reader.byKeys([['apple'], ['Émile'], ['abc '], ['日本'], ['missing']]));
    expect(rows.map((r) => r[0]).sort()).toEqual(['abc ', 'apple', 'Émile', '日本'].sort());
    // A value the latin1 column cannot hold is simply not found (no "illegal mix of collations").
    const latin = await plan('old_words', ['code'], ['name']);
    expect((await collect(session.reader(latin).byKeys([['日本'], ['é']]))).map((r) => r[0])).toEqual(['é']);
  });

  it('orders integer keys numerically, negatives and the bigint extremes included', async () => {
    const p = await plan('numbers', ['id'], ['name']);
    const rows = await collect(session.reader(p).scan(false));
    expect(rows.map((r) => r[0])).toEqual(['-9223372036854775808', '-5', '0', '7', '10', '9223372036854775807']);
    expect(isSorted(encodedKeys(p, rows))).toBe(true);
  });

  it('orders BIGINT UNSIGNED keys above 2^63 numerically, and reads them back by key', async () => {
    const p = await plan('unsigned_numbers', ['id'], ['name']);
    const rows = await collect(session.reader(p).scan(false));
    const ids = ['0', '42', '9223372036854775808', '9999999999999999999', '10000000000000000000', '18446744073709551615'];
    expect(rows.map((r) => r[0])).toEqual(ids);
    expect(isSorted(encodedKeys(p, rows))).toBe(true);
    const byKey = await collect(session.reader(p).byKeys([['18446744073709551615'], ['10000000000000000000']]));
    expect(byKey.map((r) => r[0]).sort()).toEqual(['10000000000000000000', '18446744073709551615']);
  });

  it('orders composite keys part by part', async () => {
    const p = await plan('pairs', ['n', 't'], ['v']);
    const reader = session.reader(p);
    const rows = await collect(reader.scan(false));
    expect(rows.map((r) => `${r[0]}|${r[1]}`)).toEqual(['-1|z', '2|B', '2|a ', '2|b', '10|a']);
    expect(isSorted(encodedKeys(p, rows))).toBe(true);
    const found = await collect(reader.byKeys([['2', 'b'], ['2', 'a'], ['10', 'a']]));
    expect(found.map((r) => `${r[0]}|${r[1]}`)).toEqual(['2|b', '10|a']);
  });

  it('returns SOURCE_LAYOUT rows; the hash tells NULL from empty and follows every change', async () => {
    const p = await plan('words', ['code'], ['name', 'note'], { updatedAt: 'updated_at' });
    const reader = session.reader(p);
    const byKey = async () => new Map((await collect(reader.scan(true))).map((r) => [r[0], r]));
    const rows = await byKey();
    const apple = rows.get('apple')!;
    expect(apple[SOURCE_LAYOUT.cursor(p)]).toBe('2024-05-01 10:00:00');
    expect(apple[SOURCE_LAYOUT.inScope(p)]).toBe('t');
    expect(apple.slice(SOURCE_LAYOUT.firstValue(p))).toEqual(['apple', 'name 1', '']);
    expect(apple[SOURCE_LAYOUT.hash(p)]).toMatch(/^[0-9a-f]{32}$/);
    const again = await byKey();
    expect([...again.values()].map((r) => r[SOURCE_LAYOUT.hash(p)])).toEqual([...rows.values()].map((r) => r[SOURCE_LAYOUT.hash(p)]));

    await db.exec("UPDATE words SET note = NULL WHERE code = 'apple'");
    const nulled = (await byKey()).get('apple')!;
    expect(nulled.slice(SOURCE_LAYOUT.firstValue(p))).toEqual(['apple', 'name 1', null]);
    expect(nulled[SOURCE_LAYOUT.hash(p)]).not.toBe(apple[SOURCE_LAYOUT.hash(p)]);
    await db.exec("UPDATE words SET note = '' , name = 'NAME 1' WHERE code = 'apple'");
    const cased = (await byKey()).get('apple')!;
    expect(cased[SOURCE_LAYOUT.hash(p)]).not.toBe(apple[SOURCE_LAYOUT.hash(p)]);
    await db.exec("UPDATE words SET name = 'name 1' WHERE code = 'apple'");
    expect((await byKey()).get('apple')![SOURCE_LAYOUT.hash(p)]).toBe(apple[SOURCE_LAYOUT.hash(p)]);
  });

  it('applies transforms before hashing and returning values', async () => {
    const p = await planEntity(session, session, {
      name: 'words',
      source: { table: 'words', keys: ['code'] },
      target: { table: 'words', keys: ['code'] },
      fields: [
        { source: 'code', target: 'code' },
        { source: 'name', target: 'name', transform: 'Upper' },
      ],
    });
    const [row] = await collect(session.reader(p).byKeys([['Zebra']]));
    expect(row.slice(SOURCE_LAYOUT.firstValue(p))).toEqual(['Zebra', 'NAME 0']);
  });

  it('leaving a scan early keeps the connection usable', async () => {
    await db.exec('CREATE TABLE big (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))');
    await db.exec("INSERT INTO big SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000");
    const p = await plan('big', ['id'], ['v']);
    let seen = 0;
    for await (const _row of session.reader(p).scan(true)) if (++seen === 10) break;
    expect(seen).toBe(10);
    expect((await collect(session.reader(p).byKeys([['20000']])))[0][0]).toBe('20000');
    expect((await collect(session.reader(p).scan(false))).length).toBe(20000);
    expect(await session.reader(p).estimateRows()).toBeGreaterThan(0);
  });
});

describe('MariaDB reads: values', () => {
  it('reads binary keys and zero dates as text (a zero date is for the target to refuse)', async () => {
    await db.exec("SET SESSION sql_mode = ''");
    await db.exec('CREATE TABLE legacy_dates (k VARBINARY(4) NOT NULL PRIMARY KEY, d DATETIME, b BIT(1)) ENGINE=InnoDB');
    await db.exec("INSERT INTO legacy_dates VALUES (X'ff', '0000-00-00 00:00:00', b'1'), (X'00ff', '2024-01-01', b'0'), (X'41', NULL, NULL)");
    const p = await plan('legacy_dates', ['k'], ['d', 'b']);
    const rows = await collect(session.reader(p).scan(true));
    expect(rows.map((r) => r.slice(SOURCE_LAYOUT.firstValue(p)))).toEqual([
      ['\\x00ff', '2024-01-01 00:00:00', '0'],
      ['\\x41', null, null],
      ['\\xff', '0000-00-00 00:00:00', '1'],
    ]);
    expect((await collect(session.reader(p).byKeys([['\\xff']]))).map((r) => r[0])).toEqual(['\\xff']);
  });
});

describe('MariaDB reads: conditions', () => {
  it('compiles In, NotIn, IsNull and NotNull with exact text comparison', async () => {
    await db.exec('CREATE TABLE people (id INT PRIMARY KEY, status VARCHAR(10), region VARCHAR(10))');
    const people: [number, string | null, string | null][] = [
      [1, 'active', 'north'],
      [2, 'ACTIVE', 'north'],
      [3, 'active ', null],
      [4, null, 'south'],
      [5, 'gone', 'south'],
    ];
    for (const row of people) await db.exec('INSERT INTO people VALUES (?, ?, ?)', row);
    const inScope = async (conditions: { field: string; operator?: 'In' | 'NotIn' | 'IsNull' | 'NotNull'; values?: string[] }[]) => {
      const p = await plan('people', ['id'], ['status'], { conditions });
      const rows = await collect(session.reader(p).scan(false));
      return rows.filter((r) => r[SOURCE_LAYOUT.inScope(p)] === 't').map((r) => Number(r[0]));
    };
    expect(await inScope([{ field: 'status', operator: 'In', values: ['active'] }])).toEqual([1]);
    expect(await inScope([{ field: 'status', operator: 'NotIn', values: ['active', 'gone'] }])).toEqual([2, 3, 4]);
    expect(await inScope([{ field: 'region', operator: 'IsNull' }])).toEqual([3]);
    expect(await inScope([{ field: 'status', operator: 'NotNull' }, { field: 'region', operator: 'In', values: ['south', 'north'] }])).toEqual([1, 2, 5]);
    expect(await inScope([])).toEqual([1, 2, 3, 4, 5]);
  });

  it('carries backslash, quote and NUL payloads as parameters, never as SQL', async () => {
    const payloads = ["a'b", 'c\\', "\\'; DROP TABLE payloads; --", 'nul\u0000byte', '"dq"', '\\x00', '%_'];
    await db.exec('CREATE TABLE payloads (k VARCHAR(40) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, v VARCHAR(40))');
    for (const value of payloads) await db.exec('INSERT INTO payloads VALUES (?, ?)', [value, value]);
    const p = await plan('payloads', ['k'], ['v'], { conditions: [{ field: 'v', operator: 'In', values: payloads.slice(0, 4) }] });
    const reader = session.reader(p);
    const rows = await collect(reader.scan(true));
    expect(rows.map((r) => r[0]).sort()).toEqual([...payloads].sort(compareKeys));
    expect(rows.filter((r) => r[SOURCE_LAYOUT.inScope(p)] === 't').map((r) => r[0]).sort()).toEqual(payloads.slice(0, 4).sort());
    for (const value of payloads) {
      const found = await collect(reader.byKeys([[value]]));
      expect(found.map((r) => r[0])).toEqual([value]);
    }
    expect((await db.query('SELECT COUNT(*) FROM payloads'))[0][0]).toBe(String(payloads.length));
  });
});

describe('MariaDB reads: Incremental', () => {
  beforeAll(async () => {
    // Second precision: five rows share one second, so only the key can order them.
    const rows: [number, string][] = [
      [5, '2024-05-01 10:00:00'],
      [3, '2024-05-01 10:00:00'],
      [1, '2024-05-01 10:00:00'],
      [4, '2024-05-01 10:00:00'],
      [2, '2024-05-01 10:00:00'],
      [6, '2024-05-01 10:00:01'],
      [0, '2024-05-01 09:59:59'],
    ];
    for (const [id, at] of rows) await db.exec('INSERT INTO events VALUES (?, ?, ?, ?)', [id, `event ${id}`, 'open', at]);
  });

  async function eventsPlan() {
    return plan('events', ['id'], ['title'], { updatedAt: 'updated_at' });
  }

  it('reads in (cursor, key) order and resumes tie-safe inside one second', async () => {
    const p = await eventsPlan();
    const reader = session.reader(p);
    const all = await collect(reader.changedSince(undefined));
    expect(all.map((r) => r[0])).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    const rest = await collect(reader.changedSince({ cursor: '2024-05-01 10:00:00', key: ['2'] }));
    expect(rest.map((r) => r[0])).toEqual(['3', '4', '5', '6']);
    expect(await reader.countChangedSince({ cursor: '2024-05-01 10:00:00', key: ['2'] }, 100)).toBe(4);
    expect(await reader.countChangedSince({ cursor: '2024-05-01 10:00:00', key: ['2'] }, 2)).toBe(2);
  });

  it('accepts watermarks written with a UTC offset (as PostgreSQL writes them)', async () => {
    const reader = session.reader(await eventsPlan());
    const pg = await collect(reader.changedSince({ cursor: '2024-05-01 10:00:00+00', key: ['4'] }));
    expect(pg.map((r) => r[0])).toEqual(['5', '6']);
    const shifted = await collect(reader.changedSince({ cursor: '2024-05-01T12:00:00.000+02:00', key: ['4'] }));
    expect(shifted.map((r) => r[0])).toEqual(['5', '6']);
    const iso = await collect(reader.changedSince({ cursor: '2024-05-01T10:00:00Z', key: ['5'] }));
    expect(iso.map((r) => r[0])).toEqual(['6']);
  });

  it('reports the newest (cursor, key) and resumes after it with nothing left', async () => {
    const reader = session.reader(await eventsPlan());
    const newest = await reader.newestCursor();
    expect(newest).toEqual({ cursor: '2024-05-01 10:00:01', key: ['6'] });
    expect(await collect(reader.changedSince(newest))).toEqual([]);
  });

  it('orders text keys by bytes inside a tie too', async () => {
    const p = await plan('tags', ['label'], ['id'], { updatedAt: 'updated_at' });
    const rows = await collect(session.reader(p).changedSince({ cursor: '2024-05-01 10:00:00.000001', key: ['a'] }));
    expect(rows.map((r) => r[0])).toEqual(['a ', 'a  ', 'b']);
  });
});
