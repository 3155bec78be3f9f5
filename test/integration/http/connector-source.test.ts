import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { runSync } from '../../../src/connectors/run.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { EVENT_RESOURCE, extraEventMetaPlugin, wordpressCredentials, wordpressToTable, wordpressWrite } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../helpers/wordpress-server.js';

/**
 * A real WordPress as the source: ferry_event posts read back into PostgreSQL. WordPress lists in
 * no key order, so a Full run's deletion detection goes through the engine's staged join; Incremental
 * uses WordPress's modified_after filter. Requests go through the tests' FAULT INJECTOR, which counts them.
 */
const logger = createLogger({ level: 'silent', pretty: false });
let wp: RunningWordPress;
let proxy: FaultProxy;
let request: Omit<RunRequest, 'mode'>;
const ids: number[] = [];

beforeAll(async () => {
  wp = await startWordPress({ extraPlugin: extraEventMetaPlugin() });
  proxy = await startFaultProxy(wp.siteUrl);
  const [targetUrl, stateUrl] = await Promise.all([freshDatabase('wp_read_dst'), freshDatabase('wp_read_state')]);
  await withClient(targetUrl, (c) =>
    c.query(`CREATE TABLE website_events (post_id bigint PRIMARY KEY, title text, status text, event_code text, capacity integer, modified timestamptz)`),
  );
  for (let i = 0; i < 12; i++) {
    const post = await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, {
      title: `Event ${i}`,
      status: i % 3 === 0 ? 'draft' : 'publish',
      meta: { event_code: `EV-${i}`, capacity: 10 + i },
    });
    ids.push(Number(post.id));
  }
  const spec = wordpressToTable(proxy.origin, ['title', 'status', 'event_code', 'capacity', 'modified'], ['link', 'createInTarget', 'updateTarget', 'deleteInTarget']);
  request = { flowId: 'test/wp-read', spec, sourceUrl: wordpressCredentials(wp), targetUrl, stateUrl, logger };
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await wp?.close();
});

const rows = () =>
  withClient(request.targetUrl, async (c) => (await c.query(`SELECT post_id::int AS id, title, status, event_code, capacity FROM website_events ORDER BY post_id`)).rows);

describe('WordPress ferry_event posts -> PostgreSQL', () => {
  it('a Full reads every post (drafts too) with its meta', async () => {
    const report = await runSync({ ...request, mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created).toBe(12);
    const stored = await rows();
    expect(stored.map((r) => r.id)).toEqual(ids);
    expect(stored[0]).toEqual({ id: ids[0], title: 'Event 0', status: 'draft', event_code: 'EV-0', capacity: 10 });
    expect(proxy.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('Incremental asks WordPress for posts modified since the watermark and applies the change', async () => {
    // modified_gmt has whole seconds: change the post in a later second than the last sync.
    await new Promise((r) => setTimeout(r, 1_100));
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${ids[4]}`, { title: 'Event 4 (moved)' });
    proxy.reset();
    const report = await runSync({ ...request, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.updated).toBe(1);
    expect(report.totals.created).toBe(0);
    expect(proxy.requests.some((r) => r.path.includes('modified_after='))).toBe(true);
    expect((await rows()).find((r) => r.id === ids[4])?.title).toBe('Event 4 (moved)');
  });

  it('a Full notices a post deleted in WordPress and deletes its row', async () => {
    await wordpressWrite(wp, 'DELETE', `/wp/v2/${EVENT_POST_TYPE}/${ids[7]}?force=true`);
    const report = await runSync({ ...request, mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.deleted).toBe(1);
    expect(report.totals.created + report.totals.updated).toBe(0);
    expect((await rows()).map((r) => r.id)).toEqual(ids.filter((id) => id !== ids[7]));
  });
  it('a resource described without a server-side filter: Incremental lists everything, keeps the changes, and the report says so', async () => {
    const entity = request.spec.entities[0];
    const plain = {
      list: {
        path: `/wp/v2/${EVENT_POST_TYPE}`,
        // A stable order: WordPress's default (date DESC) pages unstably over posts created in the same second.
        query: [{ name: 'context', value: 'edit' }, { name: 'status', value: 'any' }, { name: 'orderby', value: 'id' }, { name: 'order', value: 'asc' }],
        pagination: { style: 'PageNumber', pageSize: 5, totalPagesHeader: 'X-WP-TotalPages' },
      },
      fields: [
        { name: 'id', pointer: '/id', type: 'integer', readOnly: true },
        { name: 'modified', pointer: '/modified_gmt', type: 'timestamp', readOnly: true },
        { name: 'title', pointer: '/title/raw' },
        { name: 'status', pointer: '/status' },
        ...EVENT_RESOURCE.fields,
      ],
    };
    await withClient(request.targetUrl, (c) => c.query(`CREATE TABLE website_events_plain (LIKE website_events INCLUDING ALL)`));
    const target = { ...entity.target, table: 'website_events_plain' };
    const spec = { ...request.spec, entities: [{ ...entity, source: { ...entity.source, resource: plain }, target }] } as SyncFlowSpec;
    const plainRequest = { ...request, spec, flowId: 'test/wp-read-plain' };
    const full = await runSync({ ...plainRequest, mode: 'Full' });
    expect(full.status, full.error).toBe('Succeeded');
    await new Promise((r) => setTimeout(r, 1_100));
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${ids[5]}`, { title: 'Event 5 (moved)' });
    proxy.reset();
    const report = await runSync({ ...plainRequest, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.updated).toBe(1);
    expect(report.entities[0].notes.join(' ')).toMatch(/no server-side filter/);
    expect(proxy.requests.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3); // 12 posts, 5 a page
    const plainRows = await withClient(request.targetUrl, async (c) => (await c.query(`SELECT title FROM website_events_plain WHERE post_id = $1`, [ids[5]])).rows);
    expect(plainRows).toEqual([{ title: 'Event 5 (moved)' }]);
  });

  it('a value map on a field of an API record: mapped values are stored, an unlisted one rejects its record with the value named', async () => {
    const entity = request.spec.entities[0];
    await withClient(request.targetUrl, (c) => c.query(`CREATE TABLE website_events_mapped (LIKE website_events INCLUDING ALL)`));
    const fields = entity.fields.map((f) => (f.source === 'status' ? { ...f, valueMap: { entries: [{ source: 'publish', target: 'Active' }], unmapped: 'Reject' as const } } : f));
    const spec = { ...request.spec, entities: [{ ...entity, target: { ...entity.target, table: 'website_events_mapped' }, fields }] } as SyncFlowSpec;
    const report = await runSync({ ...request, spec, flowId: 'test/wp-read-mapped', mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    const statuses = await withClient(request.targetUrl, async (c) => (await c.query(`SELECT DISTINCT status FROM website_events_mapped`)).rows);
    expect(statuses).toEqual([{ status: 'Active' }]);
    expect(report.totals.rejected).toBeGreaterThan(0);
    expect(new Set(report.rejectedSamples.map((r) => r.reason))).toEqual(new Set(['field status: the value "draft" is not in its value map']));
    expect(report.totals.created + report.totals.rejected).toBe(ids.length - 1); // one post was deleted above
  });
});
