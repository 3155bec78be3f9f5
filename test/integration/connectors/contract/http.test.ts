import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { httpConnector } from '../../../../src/connectors/http/index.js';
import { SOURCE_LAYOUT, type Connector, type RowRejection, type Session } from '../../../../src/engine/connector.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { startFaultProxy, type FaultProxy } from '../../../helpers/fault-proxy.js';
import { EVENT_RESOURCE, extraEventMetaPlugin, wordpressCredentials, wordpressSystem, wordpressWrite } from '../../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../../helpers/wordpress-server.js';
import { collect } from './setup.js';

/**
 * The connector contract for the HTTP connector, against a real WordPress: the interface promises
 * that hold on an API, and the capabilities it lacks declared so the engine takes its fallbacks
 * (unordered lists -> staged join; no transactions -> simulated dry-run writes; keys returned by the
 * create; --watch polls). Requests go through the tests' FAULT INJECTOR, which only counts them here.
 * The SQL-fixture cases of the suite (tricky collations, SQL-text values, server loss) do not apply;
 * whole runs through this connector are in test/integration/http/.
 */
let wp: RunningWordPress;
let proxy: FaultProxy;
let connector: Connector;
let session: Session;
let plan: EntityPlan;
const T = ['2026-03-01T12:00:00', '2026-03-01T12:00:00', '2026-03-01T12:00:00', '2026-03-02T08:00:00', '2026-03-01T09:00:00'];

beforeAll(async () => {
  wp = await startWordPress({ extraPlugin: extraEventMetaPlugin() });
  proxy = await startFaultProxy(wp.siteUrl);
  // Posts carry their own "updated" cursor in meta, so the test can give several the same value.
  for (const [i, at] of T.entries()) {
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, { title: `Item ${i}`, status: 'publish', meta: { event_code: `C${i}`, event_start: at, capacity: i } });
  }
  const spec = {
    direction: 'OneWay',
    source: wordpressSystem(proxy.origin),
    target: wordpressSystem(proxy.origin),
    entities: [
      {
        name: 'items',
        source: { table: EVENT_POST_TYPE, keys: ['id'], updatedAt: 'event_start', resource: EVENT_RESOURCE },
        target: { table: EVENT_POST_TYPE, keys: ['id'], resource: EVENT_RESOURCE },
        match: [{ source: 'event_code', target: 'event_code' }],
        fields: [
          { source: 'title', target: 'title' },
          { source: 'event_code', target: 'event_code' },
          { source: 'capacity', target: 'capacity' },
        ],
      },
    ],
  } as unknown as SyncFlowSpec;
  connector = httpConnector(spec, 'source', wordpressCredentials(wp), 'the contract API');
  session = await connector.open();
  const catalog = await session.readCatalog('', [EVENT_POST_TYPE]);
  plan = planFlow(withFlowDefaults(spec), (_side, table) => catalog.get(table)).entities[0];
}, 180_000);

afterAll(async () => {
  await session?.close();
  await proxy?.close();
  await wp?.close();
});

const writes = () => proxy.requests.filter((r) => r.method !== 'GET').length;

describe('connector contract: http (WordPress)', () => {
  it('declares what it lacks, so the engine takes its fallbacks', () => {
    expect(session.capabilities).toEqual({ orderedScan: false, transactions: false, sharedSnapshot: false, generatedKeys: 'returned', changeFeed: 'poll', newKeyOnRecreate: true });
    expect(connector.changeFeed).toBeUndefined();
    expect(plan.target.keyMode).toBe('generated');
  });

  it('scans every record once (in any order), with key, cursor, hash, scope and values', async () => {
    const rows = await collect(session.reader(plan).scan(true));
    expect(rows).toHaveLength(T.length);
    expect(new Set(rows.map((r) => r[0])).size).toBe(T.length);
    const first = rows.find((r) => r[SOURCE_LAYOUT.firstValue(plan) + 1] === 'C0')!;
    expect(first[SOURCE_LAYOUT.cursor(plan)]).toBe('2026-03-01T12:00:00Z');
    expect(first[SOURCE_LAYOUT.inScope(plan)]).toBe('t');
    expect(first.slice(SOURCE_LAYOUT.firstValue(plan))).toEqual(['Item 0', 'C0', null, 'C0']); // capacity 0 is WordPress's unset
  });

  it('changedSince is tie-safe: (cursor, key) order, strictly after the watermark', async () => {
    const all = await collect(session.reader(plan).changedSince(undefined));
    const marks = all.map((r) => [r[SOURCE_LAYOUT.cursor(plan)], Number(r[0])] as const);
    expect(marks.map((m) => m[0])).toEqual([...marks.map((m) => m[0])].sort());
    const ties = marks.filter((m) => m[0] === '2026-03-01T12:00:00Z');
    expect(ties.map((m) => m[1])).toEqual([...ties.map((m) => m[1])].sort((a, b) => a - b));
    const after = await collect(session.reader(plan).changedSince({ cursor: ties[0][0]!, key: [String(ties[0][1])] }));
    expect(after.map((r) => Number(r[0]))).toEqual([ties[1][1], ties[2][1], marks[marks.length - 1][1]]);
  });

  it('reads by keys, and knows the newest cursor', async () => {
    const rows = await collect(session.reader(plan).scan(false));
    const wanted = rows.slice(0, 2).map((r) => [r[0]!]);
    const found = await collect(session.reader(plan).byKeys([...wanted, ['999999']]));
    expect(found.map((r) => r[0]).sort()).toEqual(wanted.map((k) => k[0]).sort());
    expect((await session.reader(plan).newestCursor())?.cursor).toBe('2026-03-02T08:00:00Z');
  });

  it('creates return their keys and hashes; upserts and deletes by key; hashes agree with the stored records; matches find records', async () => {
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
    const gone: string[] = [];
    expect(await writer.deleteRows([key, ['999999']], (k) => gone.push(k[0]))).toBe(1);
    expect(await writer.currentHashes([key])).toEqual(new Map());
  });

  it('a dry run sends no write request and still answers like a real one', async () => {
    const dry = await connector.open();
    dry.simulateWrites!();
    const writer = dry.writer(plan);
    proxy.reset();
    const rejections: RowRejection[] = [];
    const created = await writer.insertReturningKeys([{ seq: 0, values: ['Dry', 'C-DRY', '1'] }], rejections);
    expect(Number(created.get(0)!.key[0])).toBeLessThan(0);
    const existing = (await collect(writer.streamHashes()))[0][0]!;
    await writer.stageRows([{ seq: 1, key: [existing], values: ['Dry rename', 'C0', '1'] }], rejections);
    await writer.write([1], rejections, 'upsert');
    expect(await writer.deleteRows([[existing]], () => {})).toBe(1);
    expect(writes()).toBe(0);
    await dry.close();
  });
});
