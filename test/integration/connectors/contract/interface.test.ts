import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entity } from '../../../../src/api/entity.js';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import { httpConnector } from '../../../../src/connectors/http/index.js';
import { runSync } from '../../../../src/connectors/run.js';
import { drawnKey, SOURCE_LAYOUT, type Connector, type RowRejection, type Session, type StageRow } from '../../../../src/engine/connector.js';
import { compareKeys } from '../../../../src/engine/keys.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { createLogger } from '../../../../src/util/logger.js';
import { freshDatabase } from '../../../helpers/databases.js';
import { testDatabase } from '../../../helpers/pairings.js';
import { EVENT_RESOURCE, wordpressCredentials, wordpressToTable, wordpressWrite } from '../../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE } from '../../../helpers/wordpress-server.js';
import { interopAvailable, startSshd, type Sshd } from '../../export/system-servers.js';
import { initFilesContract, type FilesFixture } from './files-fixture.js';
import { initHttpContract, wordpressEntity, type HttpFixture } from './http-fixture.js';
import { CONNECTORS, DECLARED, collect, contractIt, initContract, lacking, sqlText, truthy, type ConnectorKind, type ContractFixture, type Need } from './setup.js';
import { autoEntity, CI_KEYS, CONTRACT_DDL, itemsEntity, TRICKY_KEYS } from './tables.js';

/**
 * The connector interface's promises, case by case, on every connector: each builds the same kind
 * of records on its own system (SQL rows, WordPress posts, CSV files), and a case a connector lacks
 * the means for is skipped with the reason. Where the engine makes up for a lack, the case checks
 * that instead: scans in any order (the engine stages them), a dry run without transactions
 * (simulated writes), a Full through the staged join.
 */
const logger = createLogger({ level: 'silent', pretty: false });
const SQL_WRITES: Need[] = ['writes', 'triggerLog'];
const T = '2026-03-01 12:00:00';
/** WordPress posts' own cursor (meta event_start): the three oldest share one value, so changedSince must break ties by key. */
const POST_TIMES = ['2026-03-01T12:00:00', '2026-03-01T12:00:00', '2026-03-01T12:00:00', '2026-03-02T08:00:00', '2026-03-03T09:00:00'];

/** One connector's records for the cases: the same shape whatever holds them. */
interface ItemsWorld {
  connector: Connector;
  session: Session;
  plan: EntityPlan;
  /** Every key seeded. */
  keys: string[];
  /** The first value a scan gives for each key. */
  firstValues: Map<string, string>;
  /** How many rows share the lowest cursor. */
  ties: number;
  /** Keys to read by key: some present, one missing ('missing' last). */
  asked: string[];
  /** The watermark a Full run sets is the newest row's (files: the end of the newest file instead). */
  newestIsLastRow: boolean;
  sql?: ContractFixture;
  http?: HttpFixture;
  files?: FilesFixture;
  close(): Promise<void>;
}

/** The posts described by hand, without the profile's server-side filter (modified_after). */
const UNFILTERED_EVENTS = {
  list: {
    path: `/wp/v2/${EVENT_POST_TYPE}`,
    query: [
      { name: 'context', value: 'edit' },
      { name: 'status', value: 'any' },
    ],
    pagination: { style: 'PageNumber', pageSize: 2, totalPagesHeader: 'X-WP-TotalPages' },
  },
  sort: [
    { name: 'orderby', value: 'id' },
    { name: 'order', value: 'asc' },
  ],
  fields: [{ name: 'id', pointer: '/id', type: 'integer', readOnly: true }, { name: 'title', pointer: '/title/raw' }, ...EVENT_RESOURCE.fields],
};

const TRICKY_ASKED = ['apple ', 'Apple', 'a\\b', "o'neil", 'missing'];

async function sqlWorld(kind: 'postgres' | 'mysql'): Promise<ItemsWorld> {
  const fx = await initContract(kind, `contract_${kind}`, CONTRACT_DDL);
  // Every key shares one cursor value but the last few, so changedSince must break ties by key.
  const rows = TRICKY_KEYS.map((k, i) => {
    const at = i < TRICKY_KEYS.length - 3 ? T : `2026-03-0${2 + (i % 3)} 08:00:00`;
    return `(${sqlText(kind, k)}, ${sqlText(kind, `N${i}`)}, ${i}, 'Member', ${fx.db.at(at)})`;
  });
  await fx.db.exec(`INSERT INTO src_items VALUES ${rows.join(', ')}`);
  if (kind === 'mysql') {
    await fx.db.exec(`INSERT INTO src_ci VALUES ${CI_KEYS.map((k, i) => `(${sqlText(kind, k)}, 'n', ${i}, 'Member', ${fx.db.at(T)})`).join(', ')}`);
  }
  return {
    connector: fx.connector,
    session: await fx.open(),
    plan: await fx.plan(itemsEntity()),
    keys: TRICKY_KEYS,
    firstValues: new Map(TRICKY_KEYS.map((k) => [k, k])),
    ties: TRICKY_KEYS.length - 3,
    asked: TRICKY_ASKED,
    newestIsLastRow: true,
    sql: fx,
    close: () => fx.close(),
  };
}

/** The items as ferry_event posts of a real WordPress: ids are their keys, meta event_start their cursor. */
async function httpWorld(): Promise<ItemsWorld> {
  const fx = await initHttpContract();
  const keys: string[] = [];
  for (const [i, at] of POST_TIMES.entries()) keys.push(await fx.post({ title: `Item ${i}`, meta: { event_code: `C${i}`, event_start: at, capacity: i } }));
  return {
    connector: fx.connector,
    session: await fx.open(),
    plan: await fx.plan(fx.spec.entities[0]),
    keys,
    firstValues: new Map(keys.map((k, i) => [k, `Item ${i}`])),
    ties: 3,
    asked: [keys[0], keys[3], '999999'],
    newestIsLastRow: true,
    http: fx,
    close: () => fx.close(),
  };
}

const FILE_ITEMS: Entity = { ...itemsEntity(), source: { table: 'src_items', keys: ['code'] } } as Entity;
const FILE_HEADER = ['code', 'name', 'amount', 'status'];
const fileRows = (keys: string[]) => keys.map((k) => [k, `N${TRICKY_KEYS.indexOf(k)}`, TRICKY_KEYS.indexOf(k), 'Member']);

/** The items as a partner's snapshot CSV (in a directory, or on the loopback sshd): tricky text keys are just text there; the cursor is the position in the files. */
async function filesWorld(sshd?: Sshd): Promise<ItemsWorld> {
  const fx = await initFilesContract(sshd ? 'contract_sftp' : 'contract_files', CONTRACT_DDL.postgres, [FILE_ITEMS], sshd);
  await fx.drop('src_items-1.csv', FILE_HEADER, fileRows(TRICKY_KEYS));
  return {
    connector: fx.connector,
    session: await fx.open(),
    plan: await fx.plan(FILE_ITEMS),
    keys: TRICKY_KEYS,
    firstValues: new Map(TRICKY_KEYS.map((k) => [k, k])),
    // The position (file, line) is unique: no two rows share one.
    ties: 1,
    asked: TRICKY_ASKED,
    newestIsLastRow: false,
    files: fx,
    close: async () => {
      await fx.close();
      await sshd?.close();
    },
  };
}

/** Every connector, and the files source once more over SFTP (a real OpenSSH sshd on loopback) where the machine has one. */
const VARIANTS = [...CONNECTORS, ...(interopAvailable ? (['files over SFTP'] as const) : [])];
type Variant = ConnectorKind | 'files over SFTP';

const WORLDS: Record<Variant, () => Promise<ItemsWorld>> = {
  postgres: () => sqlWorld('postgres'),
  mysql: () => sqlWorld('mysql'),
  http: httpWorld,
  files: () => filesWorld(),
  'files over SFTP': async () => filesWorld(await startSshd()),
};

describe.each(VARIANTS)('connector contract: %s', (variant: Variant) => {
  const kind: ConnectorKind = variant === 'files over SFTP' ? 'files' : variant;
  let world: ItemsWorld;
  let fx: ContractFixture;
  let session: Session;
  let plan: EntityPlan;

  beforeAll(async () => {
    world = await WORLDS[variant]();
    ({ session, plan } = world);
    if (world.sql) fx = world.sql;
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const encoded = (p: EntityPlan, rows: (string | null)[][], parts = 1) => rows.map((r) => p.source.codec.encode(r.slice(0, parts))!);
  const sortedByEngine = (keys: string[]) => [...keys].sort(compareKeys);

  it('declares what it can do; the engine takes its fallbacks for the rest', () => {
    expect(session.capabilities).toMatchObject(DECLARED[kind]);
    expect(session.capabilities.changeFeed === 'notify').toBe(typeof world.connector.changeFeed === 'function');
    expect(session.capabilities.transactionOutcome === true).toBe(typeof session.beginTracked === 'function' && typeof session.transactionOutcome === 'function');
  });

  contractIt(kind, ['transactionOutcome'], 'tells, from another session, whether a tracked write transaction committed, aborted or is still open', async () => {
    const other = await world.connector.open();
    try {
      const committed = await session.beginTracked!();
      expect(await other.transactionOutcome!(committed)).toBe('in progress');
      await session.commit();
      expect(await other.transactionOutcome!(committed)).toBe('committed');
      const aborted = await session.beginTracked!();
      await session.rollback();
      expect(await other.transactionOutcome!(aborted)).toBe('aborted');
      // A token the system has not handed out (a restart that lost its log went back before it), and one it never could.
      expect(await other.transactionOutcome!(String(BigInt(aborted) + 1_000_000n))).toBe('unknown');
      expect(await other.transactionOutcome!('1; SELECT 1')).toBe('unknown');
    } finally {
      await other.close();
    }
  });

  it('scans every row once, in the engine key order when it declares orderedScan (any order otherwise: the engine stages it)', async () => {
    const rows = await collect(session.reader(plan).scan(true));
    expect(rows.map((r) => r[0]).sort()).toEqual([...world.keys].sort());
    const keys = encoded(plan, rows);
    if (session.capabilities.orderedScan) expect(keys).toEqual(sortedByEngine(keys));
    const first = SOURCE_LAYOUT.firstValue(plan);
    for (const row of rows) {
      expect(row[first], `key ${row[0]}`).toBe(world.firstValues.get(row[0]!));
      expect(row[SOURCE_LAYOUT.inScope(plan)]).toBe('t');
    }
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
    expect(all).toHaveLength(world.keys.length);
    const cursorAt = SOURCE_LAYOUT.cursor(plan);
    const ties = all.filter((r) => r[cursorAt] === all[0][cursorAt]);
    expect(ties.length).toBe(world.ties);
    expect(encoded(plan, ties)).toEqual(sortedByEngine(encoded(plan, ties)));
    for (const i of [...new Set([0, Math.min(2, all.length - 2), ties.length - 1, all.length - 2])]) {
      const after = await collect(reader.changedSince({ cursor: all[i][cursorAt]!, key: [all[i][0]!] }));
      expect(after.map((r) => r[0]), `after row ${i}`).toEqual(all.slice(i + 1).map((r) => r[0]));
    }
    const newest = await reader.newestCursor();
    expect(await collect(reader.changedSince(newest))).toEqual([]);
    if (world.newestIsLastRow) expect(newest).toEqual({ cursor: all.at(-1)![cursorAt], key: [all.at(-1)![0]] });
    const counted = await reader.countChangedSince({ cursor: all[2][cursorAt]!, key: [all[2][0]!] }, 1000);
    // A files source only tells whether anything is past the watermark (cap), not how much.
    expect(counted).toBe(kind === 'files' ? 1000 : all.length - 3);
  });

  it('reads by keys exactly the rows asked for, keys differing by a trailing space or case included', async () => {
    const rows = await collect(session.reader(plan).byKeys(world.asked.map((k) => [k])));
    expect(rows.map((r) => r[0]).sort()).toEqual(world.asked.slice(0, -1).sort());
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
      if (!lacking(kind, SQL_WRITES)) writer = session.writer(plan);
    });

    contractIt(kind, SQL_WRITES, 'upserts new rows, then skips unchanged rows without touching them', async () => {
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

    contractIt(kind, SQL_WRITES, 'hashes what it wrote as expected, and sees an edit made behind its back (currentHashes and streamHashes)', async () => {
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

    contractIt(kind, SQL_WRITES, 'rejects rows the columns cannot hold, with a reason naming the column, and writes the rest', async () => {
      await clearTouches();
      const rows = [row('ok1', 'fine', '7'), row('long', 'far too long for ten', '8'), row('nan', 'x', 'not a number'), row('ok2', 'fine', '9')];
      const { rejections } = await upsert(rows);
      const reasons = new Map(rejections.map((r) => [r.seq, r.reason]));
      expect([...reasons.keys()].sort()).toEqual([rows[1].seq, rows[2].seq].sort());
      expect(reasons.get(rows[1].seq)).toMatch(/name/);
      expect(reasons.get(rows[2].seq)).toMatch(/amount/);
      expect(await touches()).toEqual(['INSERT ok1', 'INSERT ok2']);
    });

    contractIt(kind, SQL_WRITES, 'insert mode rejects a key that exists (also one differing only by a trailing space from another)', async () => {
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

    contractIt(kind, SQL_WRITES, 'archives and un-archives by key, and deletes by key, touching only those rows', async () => {
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

    contractIt(kind, SQL_WRITES, 'finds matches by normalised match columns', async () => {
      const matchPlan = await fx.plan(itemsEntity('src_items', { match: [{ source: 'name', target: 'name', normalize: 'Lower' }] }));
      // Candidates arrive normalised (the engine applies `normaliseValue`); the connector normalises its side.
      await fx.db.exec(`UPDATE dst_items SET name = 'MiXed' WHERE code = 'ok2'`);
      const found = await session.writer(matchPlan).findMatches([['mixed'], ['absent'], ["o'q\\"]]);
      expect(Object.fromEntries(found)).toEqual({ mixed: ['ok2'], "o'q\\": ['a\\b'] });
    });
  });

  contractIt(kind, ['writes', 'sql'], 'gives new rows generated keys, the way its capability says', async () => {
    const auto = await fx.plan(autoEntity());
    expect(auto.target.keyMode).toBe('generated');
    const writer = session.writer(auto);
    const rows = [1, 2, 3].map((i) => ({ seq: i, values: [`g${i}`, String(i), 'Member'] }));
    await session.begin();
    let keys: string[];
    if (session.capabilities.generatedKeys === 'drawn') {
      const drawn = await writer.allocateKeys(3);
      expect(drawn.columns).toBe(1);
      expect(drawn.values.length).toBe(3);
      const hashes = await writer.copyFresh({ keys: rows.map((_, i) => drawnKey(drawn, i)), values: rows.map((r) => r.values) });
      expect(hashes?.length).toBe(3);
      keys = drawn.values;
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
  // An API without a server-side filter: the engine's Incremental still gets exactly the changed rows.
  if (kind === 'http') {
    it('without a server-side filter, Incremental lists every record and keeps the changed ones in Ferry: the same rows, and the reader says so', async () => {
      const fx = world.http!;
      const spec = { ...fx.spec, entities: [wordpressEntity({ source: { table: EVENT_POST_TYPE, keys: ['id'], updatedAt: 'event_start', resource: UNFILTERED_EVENTS } } as Partial<Entity>)] };
      const unfiltered = await httpConnector(spec, 'source', wordpressCredentials(fx.wp), 'the unfiltered API').open();
      try {
        const catalog = await unfiltered.readCatalog('', [EVENT_POST_TYPE]);
        const reader = unfiltered.reader(planFlow(withFlowDefaults(spec), (_side, table) => catalog.get(table)).entities[0]);
        expect(session.reader(plan).incrementalNote).toBeUndefined();
        expect(reader.incrementalNote).toMatch(/no server-side filter/);
        const all = await collect(session.reader(plan).changedSince(undefined));
        const cursorAt = SOURCE_LAYOUT.cursor(plan);
        for (const i of [0, 2, all.length - 1]) {
          const mark = { cursor: all[i][cursorAt]!, key: [all[i][0]!] };
          fx.proxy.reset();
          expect((await collect(reader.changedSince(mark))).map((r) => r[0]), `after row ${i}`).toEqual(all.slice(i + 1).map((r) => r[0]));
          expect(fx.proxy.requests.length).toBeGreaterThan(0);
          expect(fx.proxy.requests.some((r) => r.path.includes('modified_after'))).toBe(false);
        }
      } finally {
        await unfiltered.close();
      }
    });
  }

  // The SQL connectors' writes are checked with the trigger log above; an API's by reading its records back.
  if (kind === 'http') {
    contractIt(kind, ['writes'], 'creates return their keys and hashes; upserts and deletes by key; hashes agree with the stored records; matches find records', async () => {
      const writer = session.writer(plan);
      const rejections: RowRejection[] = [];
      const created = await writer.insertReturningKeys([{ seq: 0, values: ['New', 'C-NEW', '7'] }, { seq: 1, values: ['Bad', 'C-BAD', 'seven'] }], rejections);
      expect(rejections).toEqual([{ seq: 1, reason: expect.stringMatching(/capacity.*not an integer/) }]);
      const { key, hash } = created.get(0)!;
      expect((await writer.currentHashes([key])).get(plan.target.codec.encode(key)!)).toBe(hash);

      await writer.stageRows([{ seq: 5, key, values: ['Renamed', 'C-NEW', '8'] }], rejections);
      const expected = (await writer.expectedHashes()).get(5)!;
      await writer.write([5], rejections, 'upsert');
      expect((await writer.currentHashes([key])).get(plan.target.codec.encode(key)!)).toBe(expected);
      const streamed = await collect(writer.streamHashes());
      expect(streamed.find((r) => r[0] === key[0])?.[1]).toBe(expected);

      expect(await writer.findMatches([['C-NEW'], ['C-NONE']])).toEqual(new Map([['C-NEW', key]]));
      expect(await writer.deleteRows([key, ['999999']], () => {})).toBe(1);
      expect(await writer.currentHashes([key])).toEqual(new Map());
    });
  }

  contractIt(kind, ['writes'], 'a dry run writes nothing: a unit of work rolled back, or without transactions simulated writes that send nothing', async () => {
    if (session.capabilities.transactions) {
      const writer = session.writer(plan);
      await fx.db.exec('DELETE FROM touches');
      const rejections: RowRejection[] = [];
      const rows: StageRow[] = [{ seq: 1, key: ['dry'], values: ['d', '1', 'Member'] }];
      await session.begin();
      await writer.stageRows(rows, rejections);
      await writer.write([1], rejections, 'upsert');
      await writer.deleteRows([['Apple']], () => {});
      await session.rollback();
      expect(await fx.db.rows(`SELECT code, op FROM touches`)).toEqual([]);
      expect(await fx.db.rows(`SELECT code FROM dst_items WHERE code IN ('dry', 'Apple')`)).toEqual([{ code: 'Apple' }]);
      return;
    }
    const http = world.http!;
    const dry = await http.open();
    dry.simulateWrites!();
    const writer = dry.writer(plan);
    http.proxy.reset();
    const rejections: RowRejection[] = [];
    const created = await writer.insertReturningKeys([{ seq: 0, values: ['Dry', 'C-DRY', '1'] }], rejections);
    expect(Number(created.get(0)!.key[0])).toBeLessThan(0);
    const existing = world.keys[0];
    await writer.stageRows([{ seq: 1, key: [existing], values: ['Dry rename', 'C0', '1'] }], rejections);
    await writer.write([1], rejections, 'upsert');
    expect(await writer.deleteRows([[existing]], () => {})).toBe(1);
    expect(http.writes()).toBe(0);
    expect(rejections).toEqual([]);
  });

  // Without orderedScan every Full run stages the source's keys and hashes in the state DB and joins
  // them there; with it, unordered-scan.test.ts switches it off to check the same join.
  if (kind === 'http' || kind === 'files') {
    it('a Full run through the staged join creates every record, then finds the one that vanished', { timeout: 120_000 }, async () => {
      const full = kind === 'files' ? await filesFullRuns(world.files!) : await httpFullRuns(world.http!, world.keys);
      expect(full.first.status, full.first.error).toBe('Succeeded');
      expect(full.first.totals.created).toBe(world.keys.length);
      expect(full.second.status, full.second.error).toBe('Succeeded');
      expect(full.second.totals).toMatchObject({ created: 0, updated: 0, deleted: 1 });
      expect(full.stored.sort()).toEqual(world.keys.slice(1).sort());
    });
  }
});

const ACTIONS: Entity['actions'] = ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'];

/** The items from the snapshot CSV into PostgreSQL, then from a newer snapshot without the first key. */
async function filesFullRuns(fx: FilesFixture) {
  const spec = { ...fx.spec, entities: [{ ...fx.spec.entities[0], actions: ACTIONS }] };
  const run = () => runSync({ flowId: 'contract/files-full', spec, mode: 'Full', sourceUrl: '', targetUrl: fx.target.url, stateUrl: fx.stateUrl, logger, files: fx.context });
  const first = await run();
  await fx.drop('src_items-2.csv', FILE_HEADER, fileRows(TRICKY_KEYS.slice(1)));
  const second = await run();
  const stored = (await fx.target.rows(`SELECT code FROM dst_items`)).map((r) => r.code!);
  return { first, second, stored };
}

/** The posts into a PostgreSQL table, then again after one post was deleted in WordPress. */
async function httpFullRuns(fx: HttpFixture, keys: string[]) {
  const target = await testDatabase('postgres', 'contract_http_dst');
  await target.exec(`CREATE TABLE website_events (post_id bigint PRIMARY KEY, title text, event_code text)`);
  const request = {
    flowId: 'contract/http-full',
    spec: wordpressToTable(fx.proxy.origin, ['title', 'event_code'], ACTIONS),
    sourceUrl: wordpressCredentials(fx.wp),
    targetUrl: target.url,
    stateUrl: await freshDatabase('contract_http_state'),
    logger,
  };
  const first = await runSync({ ...request, mode: 'Full' });
  await wordpressWrite(fx.wp, 'DELETE', `/wp/v2/${EVENT_POST_TYPE}/${keys[0]}?force=true`);
  const second = await runSync({ ...request, mode: 'Full' });
  const stored = (await target.rows(`SELECT post_id FROM website_events`)).map((r) => r.post_id!);
  return { first, second, stored };
}
