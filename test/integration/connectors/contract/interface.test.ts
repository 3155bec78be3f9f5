import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_LAYOUT, type RowRejection, type Session, type StageRow } from '../../../../src/engine/connector.js';
import { compareKeys } from '../../../../src/engine/keys.js';
import type { EntityPlan } from '../../../../src/engine/plan.js';
import { CONNECTORS, collect, initContract, sqlText, truthy, type ContractFixture } from './setup.js';
import { autoEntity, CI_KEYS, CONTRACT_DDL, itemsEntity, TRICKY_KEYS } from './tables.js';

/** The connector interface's promises, case by case, on every connector. */
describe.each(CONNECTORS)('connector contract: %s', (kind) => {
  let fx: ContractFixture;
  let session: Session;
  let plan: EntityPlan;
  const T = '2026-03-01 12:00:00';

  beforeAll(async () => {
    fx = await initContract(kind, `contract_${kind}`, CONTRACT_DDL);
    // Every key shares one cursor value but the last few, so changedSince must break ties by key.
    const rows = TRICKY_KEYS.map((k, i) => {
      const at = i < TRICKY_KEYS.length - 3 ? T : `2026-03-0${2 + (i % 3)} 08:00:00`;
      return `(${sqlText(kind, k)}, ${sqlText(kind, `N${i}`)}, ${i}, 'Member', ${fx.db.at(at)})`;
    });
    await fx.db.exec(`INSERT INTO src_items VALUES ${rows.join(', ')}`);
    if (kind === 'mysql') {
      await fx.db.exec(`INSERT INTO src_ci VALUES ${CI_KEYS.map((k, i) => `(${sqlText(kind, k)}, 'n', ${i}, 'Member', ${fx.db.at(T)})`).join(', ')}`);
    }
    session = await fx.open();
    plan = await fx.plan(itemsEntity());
  });

  afterAll(async () => {
    await fx?.close();
  });

  const encoded = (p: EntityPlan, rows: (string | null)[][], parts = 1) => rows.map((r) => p.source.codec.encode(r.slice(0, parts))!);
  const sortedByEngine = (keys: string[]) => [...keys].sort(compareKeys);

  it('scans every row once, in the engine key order, with tricky text keys', async () => {
    const rows = await collect(session.reader(plan).scan(true));
    expect(rows.map((r) => r[0]).sort()).toEqual([...TRICKY_KEYS].sort());
    const keys = encoded(plan, rows);
    expect(keys).toEqual(sortedByEngine(keys));
    const first = SOURCE_LAYOUT.firstValue(plan);
    const apple = rows.find((r) => r[0] === 'apple ')!;
    expect(apple[first]).toBe('apple ');
    expect(apple[SOURCE_LAYOUT.inScope(plan)]).toBe('t');
  });

  // Only MariaDB/MySQL key columns default to a case- and accent-insensitive collation: the case exists there alone.
  if (kind === 'mysql') {
    it('keeps the engine key order on a case- and accent-insensitive collation', async () => {
      const ci = await fx.plan(itemsEntity('src_ci'));
      const keys = encoded(ci, await collect(session.reader(ci).scan(false)));
      expect(keys).toHaveLength(CI_KEYS.length);
      expect(keys).toEqual(sortedByEngine(keys));
    });
  }

  it('reads changedSince in tie-safe (cursor, key) order and resumes after any row without skipping or repeating', async () => {
    const reader = session.reader(plan);
    const all = await collect(reader.changedSince(undefined));
    expect(all).toHaveLength(TRICKY_KEYS.length);
    const cursorAt = SOURCE_LAYOUT.cursor(plan);
    const ties = all.filter((r) => r[cursorAt] === all[0][cursorAt]);
    expect(ties.length).toBe(TRICKY_KEYS.length - 3);
    expect(encoded(plan, ties)).toEqual(sortedByEngine(encoded(plan, ties)));
    for (const i of [0, 4, ties.length - 1, all.length - 2]) {
      const after = await collect(reader.changedSince({ cursor: all[i][cursorAt]!, key: [all[i][0]!] }));
      expect(after.map((r) => r[0]), `after row ${i}`).toEqual(all.slice(i + 1).map((r) => r[0]));
    }
    expect(await reader.newestCursor()).toEqual({ cursor: all.at(-1)![cursorAt], key: [all.at(-1)![0]] });
    expect(await reader.countChangedSince({ cursor: all[2][cursorAt]!, key: [all[2][0]!] }, 1000)).toBe(all.length - 3);
  });

  it('reads by keys exactly the rows asked for, keys differing by a trailing space or case included', async () => {
    const asked = ['apple ', 'Apple', 'a\\b', "o'neil", 'missing'];
    const rows = await collect(session.reader(plan).byKeys(asked.map((k) => [k])));
    expect(rows.map((r) => r[0]).sort()).toEqual(asked.filter((k) => k !== 'missing').sort());
  });

  describe('writes', () => {
    let writer: ReturnType<Session['writer']>;
    let seq = 0;
    const row = (code: string, name: string | null, amount: string | null, status: string | null = 'Member'): StageRow => ({
      seq: ++seq,
      key: [code],
      values: [name, amount, status],
    });
    const touches = async () => (await fx.db.rows(`SELECT code, op FROM touches`)).map((r) => `${r.op} ${r.code}`).sort();
    const clearTouches = () => fx.db.exec('DELETE FROM touches');

    async function upsert(rows: StageRow[]): Promise<{ rejections: RowRejection[]; expected: Map<number, string> }> {
      const rejections: RowRejection[] = [];
      await session.begin();
      await writer.stageRows(rows, rejections);
      const expected = await writer.expectedHashes();
      const refused = new Set(rejections.map((r) => r.seq));
      await writer.write(rows.map((r) => r.seq).filter((s) => !refused.has(s)), rejections, 'upsert');
      await session.commit();
      return { rejections, expected };
    }

    beforeAll(() => {
      writer = session.writer(plan);
    });

    it('upserts new rows, then skips unchanged rows without touching them', async () => {
      expect(await writer.isEmpty()).toBe(true);
      const first = [row('Apple', 'a', '1'), row('apple', 'b', '2'), row('apple ', 'c', '3'), row('a\\b', "o'q\\", '4')];
      const { rejections } = await upsert(first);
      expect(rejections).toEqual([]);
      expect(await touches()).toEqual(['INSERT Apple', 'INSERT a\\b', 'INSERT apple', 'INSERT apple ']);
      await clearTouches();
      const again = [row('Apple', 'a', '1'), row('apple', 'b2', '2'), row('apple ', 'c', '3'), row('a\\b', "o'q\\", '4')];
      expect((await upsert(again)).rejections).toEqual([]);
      expect(await touches()).toEqual(['UPDATE apple']);
      const stored = await fx.db.rows(`SELECT code, name FROM dst_items ORDER BY code`);
      expect(Object.fromEntries(stored.map((r) => [r.code, r.name]))).toEqual({ Apple: 'a', apple: 'b2', 'apple ': 'c', 'a\\b': "o'q\\" });
    });

    it('hashes what it wrote as expected, and sees an edit made behind its back (currentHashes and streamHashes)', async () => {
      await clearTouches();
      const rows = [row('Zebra', 'z', '5'), row('zebra', 'zz', null, null)];
      const { expected } = await upsert(rows);
      const keys = [['Zebra'], ['zebra']];
      const current = await writer.currentHashes(keys);
      expect(current.get(plan.target.codec.encode(['Zebra'])!)).toBe(expected.get(rows[0].seq));
      expect(current.get(plan.target.codec.encode(['zebra'])!)).toBe(expected.get(rows[1].seq));
      const streamed = await collect(writer.streamHashes());
      const streamedKeys = encoded(plan, streamed);
      expect(streamedKeys).toEqual(sortedByEngine(streamedKeys));
      const byKey = new Map(streamed.map((r) => [plan.target.codec.encode([r[0]])!, r[1]]));
      for (const [k, hash] of current) expect(byKey.get(k)).toBe(hash);

      await fx.db.exec(`UPDATE dst_items SET amount = 6 WHERE code = 'Zebra'`);
      const after = await writer.currentHashes(keys);
      expect(after.get(plan.target.codec.encode(['Zebra'])!)).not.toBe(expected.get(rows[0].seq));
      expect(after.get(plan.target.codec.encode(['zebra'])!)).toBe(expected.get(rows[1].seq));
      const restreamed = new Map((await collect(writer.streamHashes())).map((r) => [plan.target.codec.encode([r[0]])!, r[1]]));
      expect(restreamed.get(plan.target.codec.encode(['Zebra'])!)).not.toBe(byKey.get(plan.target.codec.encode(['Zebra'])!));
    });

    it('rejects rows the columns cannot hold, with a reason naming the column, and writes the rest', async () => {
      await clearTouches();
      const rows = [row('ok1', 'fine', '7'), row('long', 'far too long for ten', '8'), row('nan', 'x', 'not a number'), row('ok2', 'fine', '9')];
      const { rejections } = await upsert(rows);
      const reasons = new Map(rejections.map((r) => [r.seq, r.reason]));
      expect([...reasons.keys()].sort()).toEqual([rows[1].seq, rows[2].seq].sort());
      expect(reasons.get(rows[1].seq)).toMatch(/name/);
      expect(reasons.get(rows[2].seq)).toMatch(/amount/);
      expect(await touches()).toEqual(['INSERT ok1', 'INSERT ok2']);
    });

    it('insert mode rejects a key that exists (also one differing only by a trailing space from another)', async () => {
      await clearTouches();
      const rejections: RowRejection[] = [];
      const rows = [row('Apple', 'dup', '1'), row('Apple  ', 'new', '1')];
      await session.begin();
      await writer.stageRows(rows, rejections);
      await writer.write(rows.map((r) => r.seq), rejections, 'insert');
      await session.commit();
      expect(rejections.map((r) => r.seq)).toEqual([rows[0].seq]);
      expect(await touches()).toEqual(['INSERT Apple  ']);
    });

    it('archives and un-archives by key, and deletes by key, touching only those rows', async () => {
      await clearTouches();
      await session.begin();
      await writer.setArchived([['apple '], ['a\\b']], true);
      await session.commit();
      const archived = await fx.db.rows(`SELECT code, archived FROM dst_items ORDER BY code`);
      expect(archived.filter((r) => truthy(r.archived)).map((r) => r.code).sort()).toEqual(['a\\b', 'apple ']);
      expect(await touches()).toEqual(['UPDATE a\\b', 'UPDATE apple ']);
      await session.begin();
      await writer.setArchived([['apple ']], false);
      const refused: string[] = [];
      const deleted = await writer.deleteRows([['apple'], ['nope']], (key, reason) => refused.push(`${key}: ${reason}`));
      await session.commit();
      expect(deleted).toBe(1);
      expect(refused).toEqual([]);
      const left = await fx.db.rows(`SELECT code, archived FROM dst_items WHERE code IN ('apple', 'apple ')`);
      expect(left.map((r) => [r.code, truthy(r.archived)])).toEqual([['apple ', false]]);
    });

    it('finds matches by normalised match columns', async () => {
      const matchPlan = await fx.plan(itemsEntity('src_items', { match: [{ source: 'name', target: 'name', normalize: 'Lower' }] }));
      // Candidates arrive normalised (the engine applies `normaliseValue`); the connector normalises its side.
      await fx.db.exec(`UPDATE dst_items SET name = 'MiXed' WHERE code = 'ok2'`);
      const found = await session.writer(matchPlan).findMatches([['mixed'], ['absent'], ["o'q\\"]]);
      expect(Object.fromEntries(found)).toEqual({ mixed: ['ok2'], "o'q\\": ['a\\b'] });
    });
  });

  it('gives new rows generated keys, the way its capability says', async () => {
    const auto = await fx.plan(autoEntity());
    expect(auto.target.keyMode).toBe('generated');
    const writer = session.writer(auto);
    const rows = [1, 2, 3].map((i) => ({ seq: i, values: [`g${i}`, String(i), 'Member'] }));
    await session.begin();
    let keys: string[];
    if (session.capabilities.generatedKeys === 'drawn') {
      const drawn = await writer.allocateKeys(3);
      const hashes = await writer.copyFresh(rows.map((r, i) => ({ ...r, key: drawn[i] })));
      expect(hashes?.size).toBe(3);
      keys = drawn.map((k) => k[0]);
    } else {
      const rejections: RowRejection[] = [];
      const made = await writer.insertReturningKeys(rows, rejections);
      expect(rejections).toEqual([]);
      keys = [1, 2, 3].map((s) => made.get(s)!.key[0]);
    }
    await session.commit();
    expect(new Set(keys).size).toBe(3);
    const stored = await fx.db.rows(`SELECT id, name FROM dst_auto ORDER BY id`);
    expect(stored.map((r) => [r.id, r.name])).toEqual(keys.map((k, i) => [k, `g${i + 1}`]));
  });
});
