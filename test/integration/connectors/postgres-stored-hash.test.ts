import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { FreshCopyBatch } from '../../../src/connectors/postgres/fresh-batch.js';
import { serverTraits, storedRowHash } from '../../../src/connectors/postgres/stored-hash.js';
import { TargetTable } from '../../../src/connectors/postgres/target.js';
import { drawnKey } from '../../../src/engine/connector.js';
import { DrawnKeys } from '../../../src/engine/one-way/drawn-keys.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { KeyCodec } from '../../../src/engine/keys.js';
import { freshDatabase } from '../../helpers/databases.js';

/**
 * A fresh row's hash worked out in Ferry must be the one PostgreSQL computes from the stored row
 * (`md5(ROW(columns)::text)`, what every later drift check compares), and where Ferry cannot be
 * sure of the stored text it must not guess: such a row is read back.
 */
const COLUMNS: [string, string][] = [
  ['t', 'text'],
  ['v', 'character varying(5)'],
  ['i', 'integer'],
  ['n', 'numeric(10,2)'],
  ['u', 'numeric'],
  ['d', 'date'],
  ['b', 'boolean'],
  ['g', 'uuid'],
  ['w', 'character varying'],
  ['z', 'timestamp with time zone'],
  ['s', 'timestamp without time zone'],
  ['m', 'timestamp(3) with time zone'],
];
const TYPES = COLUMNS.map(([, type]) => type);

/** Per column: values whose stored text Ferry knows, and values it cannot be sure of (stored in another form). */
const KNOWN: Record<string, string[]> = {
  t: ['', ' ', 'a b', 'a,b', '(x)', 'say "hi"', 'back\\slash', 'tab\there', 'new\nline', 'cr\rhere', 'v\vf\f', 'Zürich', 'nb\u00a0sp', '日本', '🙂', 'NULL', '\\N', '\\.', 'plain'],
  v: ['abcde', 'ab  ', 'ä€🙂'.slice(0, 3)],
  i: ['0', '-5', '42', '2147483647'],
  n: ['12.50', '0.00', '-3.10', '99999999.99', '12.5', '100', '0', '-7.1'],
  u: ['1.500', '-0.5', '0', '123456789012345678901234567890.000001'],
  d: ['2026-11-30', '0999-01-05', '2000-02-29'],
  b: ['t', 'f', 'true', 'false'],
  g: ['0e3c7d7a-58a1-4b7e-9a64-3f1c2d4e5f60'],
  w: ['any text, at all'],
  z: ['2026-11-30T12:00:00Z', '2026-11-30 12:00:00.500Z', '2026-11-30T12:00:00.000001+00:00', '0999-01-01T00:00:00Z', '2026-11-30T23:59:59.123456', '2026-11-30T00:00:00.000+00'],
  s: ['2026-11-30T12:00:00Z', '2026-11-30 12:00:00.250', '2026-11-30T12:00:00.000001+00', '2026-11-30 12:00:00'],
  m: ['2026-11-30T12:00:00.123Z', '2026-11-30T12:00:00.1Z', '2026-11-30T12:00:00.000Z'],
};
const REWRITTEN: Record<string, string[]> = {
  v: ['abcde   '],
  i: ['007', '+3', ' 4', '-0'],
  n: ['-0.00', '-0', '1.005', '01.5', '.5', '1e2'],
  u: ['-0', '-0.000', '1e3', '.5', '01.5'],
  d: ['2026-1-5', '20261130', '11/30/2026'],
  b: ['yes', '1', 'TRUE', 'on'],
  g: ['0E3C7D7A-58A1-4B7E-9A64-3F1C2D4E5F60', '{0e3c7d7a-58a1-4b7e-9a64-3f1c2d4e5f60}'],
  z: ['2026-11-30T12:00:00+01', '2026-11-30T12:00:00.1234567Z', '2026-11-30T24:00:00Z', '2026-11-30', 'now'],
  s: ['2026-11-30T12:00:00+01', '2026-11-30T12:00:00.1234567', 'epoch'],
  m: ['2026-11-30T12:00:00.1234Z', '2026-11-30T12:00:00.9999Z'],
};

function rowsOf(values: Record<string, string[]>): (string | null)[][] {
  const rows: (string | null)[][] = [];
  COLUMNS.forEach(([name], at) => {
    for (const value of values[name] ?? []) rows.push(COLUMNS.map((_, i) => (i === at ? value : null)));
  });
  return rows;
}

function planOf(table: string): EntityPlan {
  return {
    name: table,
    position: 0,
    target: { schema: 'public', table, keys: ['id'], keyKinds: ['integer'], keyTypes: ['bigint'], codec: new KeyCodec(['integer']), keyDefaults: [`nextval('${table}_id_seq'::regclass)`] },
    fields: COLUMNS.map(([name, type], mapping) => ({ source: name, target: name, transform: 'None', targetType: type, mapping })),
  } as unknown as EntityPlan;
}

describe('stored row hashes of fresh PostgreSQL rows', () => {
  let client: pg.Client;
  let table: TargetTable;
  const savepoints = {
    savepoint: async (name: string) => void (await client.query(`SAVEPOINT ${name}`)),
    rollbackToSavepoint: async (name: string) => void (await client.query(`ROLLBACK TO SAVEPOINT ${name}`)),
    releaseSavepoint: async (name: string) => void (await client.query(`RELEASE SAVEPOINT ${name}`)),
  };

  beforeAll(async () => {
    client = new pg.Client({ connectionString: await freshDatabase('stored_hash'), options: '-c TimeZone=UTC' });
    await client.connect();
    await client.query(`CREATE TABLE fresh (id bigserial PRIMARY KEY, ${COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`);
    table = new TargetTable(client, savepoints, planOf('fresh'));
  });
  afterAll(async () => {
    await client?.end();
  });

  async function copyFresh(rows: (string | null)[][]): Promise<{ keys: string[][]; hashes: string[] }> {
    const drawn = await table.allocateKeys(rows.length);
    const keys = rows.map((_, i) => drawnKey(drawn, i));
    await client.query('BEGIN');
    const hashes = await table.copyFresh({ keys, values: rows });
    await client.query('COMMIT');
    expect(hashes).toBeDefined();
    return { keys, hashes: hashes! };
  }

  it('works out the hash PostgreSQL stores for every value whose stored text it knows, and none for a value it cannot be sure of', async () => {
    const traits = await serverTraits(client, '"public"."fresh"');
    expect(traits).toEqual({ utf8: true, isoDates: true, utcSession: true, nonAsciiPlain: true, untouched: true });
    const rowHash = storedRowHash(TYPES, traits)!;
    const known = rowsOf(KNOWN);
    const rewritten = rowsOf(REWRITTEN);
    // Every column set at once, its values taken in turn.
    const mixed = KNOWN.t!.map((_, i) => COLUMNS.map(([name]) => KNOWN[name]![i % KNOWN[name]!.length]!));
    const all = [...known, ...mixed, ...rewritten];
    const { keys, hashes } = await copyFresh(all);
    const stored = await table.currentHashes(keys);
    const codec = new KeyCodec(['integer']);
    all.forEach((values, i) => {
      const key = codec.encode(keys[i]!)!;
      expect(hashes[i], `row ${JSON.stringify(values)}`).toBe(stored.get(key));
      const derived = rowHash(values);
      if (i < known.length + mixed.length) expect(derived, `worked out for ${JSON.stringify(values)}`).toBe(stored.get(key));
      else expect(derived, `no guess for ${JSON.stringify(values)}`).toBeUndefined();
    });
  });

  it('writes the rows of a FreshBatch (values turned into COPY text as they came, keys appended at the COPY) as copyFresh does, and gives their values back exactly', async () => {
    const known = rowsOf(KNOWN);
    const rewritten = rowsOf(REWRITTEN);
    const mixed = KNOWN.t!.map((_, i) => COLUMNS.map(([name]) => KNOWN[name]![i % KNOWN[name]!.length]!));
    const all = [...known, ...mixed, ...rewritten];
    const makeBatch = (await table.freshBatches())!;
    const batch = makeBatch();
    expect(all.map((values) => batch.add(values))).toEqual(all.map((_, i) => i));
    // Every row's values come back from its bytes (the row-by-row path after a failed COPY stages them).
    // As any COPY sends them: UTF-8, a lone surrogate (one row has one) as U+FFFD.
    const sent = (values: (string | null)[]) => values.map((v) => (v === null ? null : Buffer.from(v, 'utf8').toString('utf8')));
    all.forEach((values, i) => expect(batch.values(i), `row ${i}`).toEqual(sent(values)));
    // Values read where they stand in a longer row (a source row's key, cursor, hash and scope come
    // first) make the same bytes and hashes as the values alone.
    const inRows = makeBatch() as FreshCopyBatch;
    expect(inRows).not.toBe(batch);
    all.forEach((values) => inRows.add(['key', '000000000001:000000000001', 'hash', 't', ...values], 4));
    const alone = batch as FreshCopyBatch;
    expect(inRows.data.toBuffer().equals(alone.data.toBuffer())).toBe(true);
    // A row's digest where it is known (the others' places hold nothing written).
    const digest = (b: FreshCopyBatch, i: number) => (b.isKnown(i) ? b.digestOf(i) : undefined);
    all.forEach((_, i) => expect(digest(inRows, i), `row ${i}`).toBe(digest(alone, i)));
    expect(all.filter((_, i) => alone.isKnown(i)).length).toBeGreaterThan(0);
    // A part of the batch, out of order (rows another flow's pairs refused are left out).
    const positions = all.map((_, i) => i).filter((i) => i % 7 !== 3).reverse();
    const drawn = await table.allocateKeys(positions.length);
    const keys = positions.map((_, i) => drawnKey(drawn, i));
    await client.query('BEGIN');
    const hashes = await table.copyFreshBatch(batch, positions, drawn);
    await client.query('COMMIT');
    expect(hashes).toBeDefined();
    const stored = await table.currentHashes(keys);
    const codec = new KeyCodec(['integer']);
    positions.forEach((position, i) => expect(hashes![i], `row ${position}`).toBe(stored.get(codec.encode(keys[i]!)!)));
    // Stored as copyFresh stores the same values (keys ascend in both: rows compared in key order).
    const plain = await copyFresh(positions.map((p) => all[p]!));
    const storedRows = async (ks: string[][]) =>
      (await client.query({ text: `SELECT ${COLUMNS.map(([name]) => `${name}::text`).join(', ')} FROM fresh WHERE id = ANY($1::bigint[]) ORDER BY id`, values: [ks.map((k) => k[0])], rowMode: 'array' })).rows;
    const written = await storedRows(keys);
    expect(written).toHaveLength(positions.length);
    expect(written).toEqual(await storedRows(plain.keys));
    expect(plain.hashes).toEqual(hashes);
  });

  it('gives each row of a long FreshBatch its own digest, in every 2,048-row piece of the digests, out of order and with rows left out', async () => {
    const batch = (await table.freshBatches())!() as FreshCopyBatch;
    const count = 5_000;
    for (let i = 0; i < count; i++) batch.add(COLUMNS.map(([name]) => (name === 't' ? `row ${i}` : name === 'i' ? String(i) : null)));
    const positions = Array.from({ length: count }, (_, i) => i).filter((i) => i % 11 !== 5).reverse();
    const drawn = await table.allocateKeys(positions.length);
    await client.query('BEGIN');
    const hashes = await table.copyFreshBatch(batch, positions, drawn);
    await client.query('COMMIT');
    const keys = positions.map((_, i) => drawnKey(drawn, i));
    const stored = await table.currentHashes(keys);
    const codec = new KeyCodec(['integer']);
    expect(new Set(hashes).size).toBe(positions.length);
    positions.forEach((position, i) => expect(hashes![i], `row ${position}`).toBe(stored.get(codec.encode(keys[i]!)!)));
  });

  it('leaves nothing of a FreshBatch whose COPY fails, so its rows can go one by one', async () => {
    const batch = (await table.freshBatches())!();
    batch.add(TYPES.map((_, i) => (i === 0 ? 'fits' : null)));
    batch.add(TYPES.map((_, i) => (i === 2 ? 'not a number' : null)));
    const before = (await client.query(`SELECT count(*)::int AS n FROM fresh`)).rows[0].n;
    const drawn = await table.allocateKeys(2);
    await client.query('BEGIN');
    expect(await table.copyFreshBatch(batch, [0, 1], drawn)).toBeUndefined();
    await client.query('COMMIT');
    expect((await client.query(`SELECT count(*)::int AS n FROM fresh`)).rows[0].n).toBe(before);
    expect(batch.values(1)[2]).toBe('not a number');
  });

  it('reads a row back where a BEFORE INSERT trigger may change it, or the server prints dates another way', async () => {
    await client.query(`CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.t := upper(NEW.t); RETURN NEW; END $$`);
    await client.query(`CREATE TABLE loud (LIKE fresh INCLUDING ALL)`);
    await client.query(`CREATE TRIGGER loud_shout BEFORE INSERT ON loud FOR EACH ROW EXECUTE FUNCTION shout()`);
    expect((await serverTraits(client, '"public"."loud"')).untouched).toBe(false);
    expect(storedRowHash(TYPES, await serverTraits(client, '"public"."loud"'))).toBeUndefined();
    // A trigger on one partition changes the rows COPY routes there.
    await client.query(`CREATE TABLE parted (id bigint, t text) PARTITION BY RANGE (id)`);
    await client.query(`CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100)`);
    await client.query(`CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (100) TO (200)`);
    expect((await serverTraits(client, '"public"."parted"')).untouched).toBe(true);
    await client.query(`CREATE TRIGGER high_shout BEFORE INSERT ON parted_high FOR EACH ROW EXECUTE FUNCTION shout()`);
    expect((await serverTraits(client, '"public"."parted"')).untouched).toBe(false);
    const loud = new TargetTable(client, savepoints, planOf('loud'));
    // Read back by a range of keys (a run of a sequence) and by the keys themselves (not one run), rows of another transaction lying between them.
    await client.query(`INSERT INTO loud (id, t) VALUES (12, 'other')`);
    for (const keys of [[['3'], ['1'], ['2']], [['10'], ['14'], ['11']]]) {
      await client.query('BEGIN');
      const hashes = await loud.copyFresh({ keys, values: keys.map((key) => TYPES.map((_, i) => (i === 0 ? `quiet ${key[0]}` : null))) });
      const stored = await loud.currentHashes(keys);
      await client.query('COMMIT');
      expect(stored.size).toBe(3);
      // In the order of the rows given.
      expect(hashes).toEqual(keys.map((key) => stored.get(new KeyCodec(['integer']).encode(key)!)));
    }
    expect((await client.query(`SELECT t FROM loud ORDER BY id`)).rows.map((r) => r.t)).toEqual(['QUIET 1', 'QUIET 2', 'QUIET 3', 'QUIET 10', 'QUIET 11', 'OTHER', 'QUIET 14']);

    await client.query(`SET DateStyle = 'SQL, DMY'`);
    try {
      const traits = await serverTraits(client, '"public"."fresh"');
      expect(traits.isoDates).toBe(false);
      expect(storedRowHash(TYPES, traits)).toBeUndefined();
      expect(storedRowHash(['text', 'integer'], traits)).toBeDefined();
    } finally {
      await client.query(`RESET DateStyle`);
    }
  });

  it('reads back only a row holding a non-ASCII value it cannot be sure how the server quotes', () => {
    const rowHash = storedRowHash(['text'], { utf8: true, isoDates: true, utcSession: true, nonAsciiPlain: false, untouched: true })!;
    expect(rowHash(['Zürich'])).toBeUndefined();
    expect(rowHash(['Zürich Nord'])).toBeDefined();
    expect(rowHash(['Zurich'])).toBeDefined();
  });

  it('draws keys from the key default: a sequence as the values it hands out, and a default giving NULL as before', async () => {
    const start = Number((await client.query(`SELECT last_value FROM fresh_id_seq`)).rows[0].last_value);
    const keys = await table.allocateKeys(2500);
    expect(keys.columns).toBe(1);
    expect(keys.values.map(Number)).toEqual(Array.from({ length: 2500 }, (_, i) => start + 1 + i));
    expect(keys.values.every((key) => /^\d+$/.test(key))).toBe(true);
    await client.query(`CREATE SEQUENCE wide_seq START 9007199254740993`);
    const wide = new TargetTable(client, savepoints, { ...planOf('fresh'), target: { ...planOf('fresh').target, keyDefaults: [`nextval('wide_seq')`] } } as EntityPlan);
    expect(await wide.allocateKeys(2)).toEqual({ columns: 1, values: ['9007199254740993', '9007199254740994'] });
    // A default that gives NULL (never a key): the keys come out as the per-row query gave them.
    const nulls = new TargetTable(client, savepoints, { ...planOf('fresh'), target: { ...planOf('fresh').target, keyDefaults: ['NULL::bigint'] } } as EntityPlan);
    expect(await nulls.allocateKeys(2)).toEqual({ columns: 1, values: ['null', 'null'] });
  });

  it('hands drawn keys out in draw order, a draw ahead split over batches and topped up when short', async () => {
    const start = Number((await client.query(`SELECT last_value FROM fresh_id_seq`)).rows[0].last_value);
    const drawn = new DrawnKeys(table);
    drawn.drawAhead(5);
    const first = await drawn.take(3);
    const second = await drawn.take(4);
    expect([first.columns, second.columns]).toEqual([1, 1]);
    expect([0, 1, 2].map((i) => drawnKey(first, i))).toEqual([[`${start + 1}`], [`${start + 2}`], [`${start + 3}`]]);
    // Two left from the draw ahead, two drawn now.
    expect(second.values.map(Number)).toEqual([start + 4, start + 5, start + 6, start + 7]);
  });

  it('hands out keys of two generated columns whole, the first take drawing them itself (no draw ahead before it)', async () => {
    await client.query(`CREATE SEQUENCE pair_a START 100`);
    await client.query(`CREATE SEQUENCE pair_b START 900`);
    const plan = planOf('fresh');
    const twoColumns = new TargetTable(client, savepoints, { ...plan, target: { ...plan.target, keyDefaults: [`nextval('pair_a')`, `nextval('pair_b')`] } } as EntityPlan);
    const drawn = new DrawnKeys(twoColumns);
    const first = await drawn.take(2);
    expect(first.columns).toBe(2);
    expect([0, 1].map((i) => drawnKey(first, i))).toEqual([['100', '900'], ['101', '901']]);
    drawn.drawAhead(3);
    const second = await drawn.take(2);
    const third = await drawn.take(2);
    expect([0, 1].map((i) => drawnKey(second, i))).toEqual([['102', '902'], ['103', '903']]);
    // One left from the draw ahead, one drawn now.
    expect([0, 1].map((i) => drawnKey(third, i))).toEqual([['104', '904'], ['105', '905']]);
  });
});
