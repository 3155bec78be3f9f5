import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { withClient } from '../../helpers/databases.js';
import type { FaultProxy } from '../../helpers/fault-proxy.js';
import { eventsToWordPress, startWordPressWorld, wordpressCredentials, wordpressRecords, type WordPressWorld } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, type RunningWordPress } from '../../helpers/wordpress-server.js';

/**
 * The HTTP connector writing a real WordPress (Debian's package on php -S): the association demo's
 * events become ferry_event posts with registered meta. Requests go through the tests' FAULT
 * INJECTOR (test/helpers/fault-proxy.ts), which counts them and scripts a lost response.
 */
const logger = createLogger({ level: 'silent', pretty: false });
let world: WordPressWorld;
let wp: RunningWordPress;
let proxy: FaultProxy;
let base: Omit<RunRequest, 'mode'>;

beforeAll(async () => {
  world = await startWordPressWorld('wp_events', { association: true });
  ({ wp, proxy } = world);
  // A post status per event: one the API refuses, to see a 4xx reject that record alone.
  await withClient(world.sourceUrl, (c) => c.query(`ALTER TABLE events ADD COLUMN wp_status text NOT NULL DEFAULT 'publish'`));
  const spec = eventsToWordPress(proxy.origin);
  spec.entities[0].fields.push({ source: 'wp_status', target: 'status' });
  base = { flowId: 'test/wp-events', spec, sourceUrl: world.sourceUrl, targetUrl: wordpressCredentials(wp), stateUrl: world.stateUrl, logger };
}, 180_000);

afterAll(() => world?.close());

afterEach(() => proxy.reset());

const sourceEvents = () =>
  withClient(base.sourceUrl, async (c) => (await c.query(`SELECT id, code, title, capacity, price::text AS price, starts_at, event_status_id::text AS status FROM events ORDER BY code`)).rows);
const posts = () => wordpressRecords(wp, EVENT_POST_TYPE);
const meta = (post: Record<string, unknown>) => post.meta as Record<string, unknown>;
const writes = () => proxy.requests.filter((r) => r.method !== 'GET').length;
/** GETs of one record (`/ferry_event/123`), as opposed to list pages. */
const singleGets = () => proxy.requests.filter((r) => r.method === 'GET' && /\/ferry_event\/\d+/.test(r.path)).length;

describe('PostgreSQL events -> WordPress ferry_event posts', () => {
  it('a dry run reports every create and sends no write request', async () => {
    const events = await sourceEvents();
    const dry = await runSync({ ...base, mode: 'Full', dryRun: true });
    expect(dry.status, dry.error).toBe('Succeeded');
    expect(dry.totals.created).toBe(events.length);
    expect(writes()).toBe(0);
    expect(await posts()).toEqual([]);
  });

  it('a Full creates one post per event with its meta; a refused status rejects that event alone, with the API message', async () => {
    const events = await sourceEvents();
    const bad = events[3];
    await withClient(base.sourceUrl, (c) => c.query(`UPDATE events SET wp_status = 'no-such-status' WHERE id = $1`, [bad.id]));
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created).toBe(events.length - 1);
    expect(report.totals.rejected).toBe(1);
    expect(report.rejectedSamples[0].key).toBe(String(bad.id));
    expect(report.rejectedSamples[0].reason).toMatch(/HTTP 400.*status/);

    const stored = await posts();
    expect(stored).toHaveLength(events.length - 1);
    const byCode = new Map(stored.map((p) => [meta(p).event_code, p]));
    for (const event of events.filter((e) => e.id !== bad.id)) {
      const post = byCode.get(event.code)!;
      expect(post, event.code).toBeDefined();
      expect((post.title as { raw: string }).raw).toBe(event.title);
      expect(post.status).toBe('publish');
      expect(meta(post).capacity).toBe(event.capacity ?? 0); // WordPress reads unset integer meta as 0
      expect(Number(meta(post).price)).toBe(Number(event.price));
      expect(meta(post).event_status).toBe(event.status);
      expect(Date.parse(String(meta(post).event_start))).toBe(new Date(event.starts_at).getTime());
    }
    await withClient(base.sourceUrl, (c) => c.query(`UPDATE events SET wp_status = 'draft', updated_at = now() WHERE id = $1`, [bad.id]));
  });

  it('Incremental sends the changed events only; a no-change Full sends no write and lists instead of fetching records one by one', async () => {
    await withClient(base.sourceUrl, (c) => c.query(`UPDATE events SET title = title || ' (moved)', updated_at = now() WHERE id IN (SELECT id FROM events ORDER BY code LIMIT 2)`));
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.status, incremental.error).toBe('Succeeded');
    expect(incremental.totals.updated).toBe(2);
    expect(incremental.totals.created).toBe(1); // the event refused before, now a draft
    expect(incremental.totals.rejected).toBe(0);
    const moved = (await posts()).filter((p) => String((p.title as { raw: string }).raw).endsWith(' (moved)'));
    expect(moved).toHaveLength(2);

    proxy.reset();
    const again = await runSync({ ...base, mode: 'Full' });
    expect(again.status, again.error).toBe('Succeeded');
    expect(again.totals.created + again.totals.updated + again.totals.deleted + again.totals.archived).toBe(0);
    expect(writes()).toBe(0);
    expect(singleGets()).toBe(0);
  });

  it('a Record run sends the one changed event and nothing else', async () => {
    const [event] = await withClient(base.sourceUrl, async (c) =>
      (await c.query(`UPDATE events SET location = 'Main hall' WHERE id = (SELECT min(id) FROM events) RETURNING id::text AS id, code`)).rows,
    );
    proxy.reset();
    const report = await runSync({ ...base, mode: 'Record', record: { entity: 'events', key: event.id } });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.updated).toBe(1);
    expect(writes()).toBe(1);
    const post = (await posts()).find((p) => meta(p).event_code === event.code)!;
    expect(meta(post).location).toBe('Main hall');
  });

  it('a create whose response was lost is found by its match field, not created twice', async () => {
    await withClient(base.sourceUrl, (c) =>
      c.query(`INSERT INTO events SELECT id + 100000, code || '-LOST', title || ' (lost answer)', description, starts_at, ends_at, location, capacity, price,
        event_level_id, event_status_id, event_area_id, company_id, division_id, curriculum_type_id, tax_rule_id, vendor_id, created_at, now(), wp_status
        FROM events ORDER BY code LIMIT 1`),
    );
    proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'POST', path: /ferry_event/ }, count: 1 });
    const report = await runSync({ ...base, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created).toBe(1);
    expect(proxy.reached('POST')).toBe(1);
    const lost = (await posts()).filter((p) => String(meta(p).event_code).endsWith('-LOST'));
    expect(lost).toHaveLength(1);
    const again = await runSync({ ...base, mode: 'Full' });
    expect(again.totals.created + again.totals.updated).toBe(0);
    // The Application Password appears in no report.
    expect(JSON.stringify([report, again])).not.toContain(wp.applicationPassword);
  });
});
