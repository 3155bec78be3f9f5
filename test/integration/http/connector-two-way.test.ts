import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { runSync } from '../../../src/connectors/run.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { EVENT_RESOURCE, extraEventMetaPlugin, wordpressCredentials, wordpressRecords, wordpressSystem, wordpressWrite } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../helpers/wordpress-server.js';

/** A two-way flow between a PostgreSQL table and WordPress ferry_event posts (a real WordPress). */
const logger = createLogger({ level: 'silent', pretty: false });
let wp: RunningWordPress;
let request: Omit<RunRequest, 'mode'>;

beforeAll(async () => {
  wp = await startWordPress({ extraPlugin: extraEventMetaPlugin() });
  const [sourceUrl, stateUrl] = await Promise.all([freshDatabase('wp_2way_src'), freshDatabase('wp_2way_state')]);
  await withClient(sourceUrl, async (c) => {
    await c.query(`CREATE TABLE site_events (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 hour')`);
    await c.query(`INSERT INTO site_events (code, title) VALUES ('A', 'Alpha'), ('B', 'Beta'), ('C', 'Gamma')`);
  });
  await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, { title: 'Beta on the site', status: 'publish', meta: { event_code: 'B' } });
  await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, { title: 'Delta', status: 'publish', meta: { event_code: 'D' } });
  const spec = {
    direction: 'TwoWay',
    source: { postgres: { secretRef: { name: 'db' } } },
    target: wordpressSystem(wp.siteUrl),
    entities: [
      {
        name: 'events',
        source: { table: 'site_events', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: EVENT_POST_TYPE, keys: ['id'], updatedAt: 'modified', resource: EVENT_RESOURCE },
        match: [{ source: 'code', target: 'event_code' }],
        fields: [
          { source: 'code', target: 'event_code' },
          { source: 'title', target: 'title' },
        ],
      },
    ],
  } as unknown as SyncFlowSpec;
  request = { flowId: 'test/wp-two-way', spec, sourceUrl, targetUrl: wordpressCredentials(wp), stateUrl, logger };
}, 180_000);

afterAll(async () => {
  await wp?.close();
});

const table = () => withClient(request.sourceUrl, async (c) => (await c.query(`SELECT code, title FROM site_events ORDER BY code`)).rows);
const site = async () =>
  (await wordpressRecords(wp, EVENT_POST_TYPE))
    .map((p) => ({ code: (p.meta as Record<string, unknown>).event_code, title: (p.title as { raw: string }).raw }))
    .sort((a, b) => String(a.code).localeCompare(String(b.code)));

describe('PostgreSQL table <-> WordPress posts, two-way', () => {
  it('a Full links by code, creates on both sides, the newer side wins; changes flow both ways; a further Full writes nothing', async () => {
    const first = await runSync({ ...request, mode: 'Full' });
    expect(first.status, first.error).toBe('Succeeded');
    // B exists on both sides: the WordPress post is newer than the table row, so its title wins.
    const expected = [
      { code: 'A', title: 'Alpha' },
      { code: 'B', title: 'Beta on the site' },
      { code: 'C', title: 'Gamma' },
      { code: 'D', title: 'Delta' },
    ];
    expect(await table()).toEqual(expected);
    expect(await site()).toEqual(expected);

    await new Promise((r) => setTimeout(r, 1_100));
    const posts = await wordpressRecords(wp, EVENT_POST_TYPE);
    const d = posts.find((p) => (p.meta as Record<string, unknown>).event_code === 'D')!;
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${d.id}`, { title: 'Delta (edited on the site)' });
    await withClient(request.sourceUrl, (c) => c.query(`UPDATE site_events SET title = 'Alpha (edited in the table)', updated_at = now() WHERE code = 'A'`));
    const incremental = await runSync({ ...request, mode: 'Incremental' });
    expect(incremental.status, incremental.error).toBe('Succeeded');
    expect((await table()).find((r) => r.code === 'D')?.title).toBe('Delta (edited on the site)');
    expect((await site()).find((r) => r.code === 'A')?.title).toBe('Alpha (edited in the table)');

    const again = await runSync({ ...request, mode: 'Full' });
    expect(again.status, again.error).toBe('Succeeded');
    expect(again.totals.created + again.totals.updated + again.totals.deleted + again.totals.archived).toBe(0);
  });

  it('archiving a post alone (status private) moves its pair to inactive in a Full run, writing nothing; publishing it again moves it back', async () => {
    const spec = structuredClone(request.spec) as unknown as { entities: { target: Record<string, unknown> }[] };
    spec.entities[0].target.archive = { column: 'status', value: 'private', restoreValue: 'publish' };
    const archiving = { ...request, flowId: 'test/wp-two-way-archive', spec: spec as unknown as SyncFlowSpec, stateUrl: await freshDatabase('wp_2way_archive_state') };
    const categories = (r: Awaited<ReturnType<typeof runSync>>) => r.entities.find((e) => e.name === 'events')?.categories;

    const linked = await runSync({ ...archiving, mode: 'Full' });
    expect(linked.status, linked.error).toBe('Succeeded');
    expect(categories(linked)).toEqual({ synchronised: 4 });

    const c = (await wordpressRecords(wp, EVENT_POST_TYPE)).find((p) => (p.meta as Record<string, unknown>).event_code === 'C')!;
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${c.id}`, { status: 'private' });
    const archived = await runSync({ ...archiving, mode: 'Full' });
    expect(archived.status, archived.error).toBe('Succeeded');
    expect(categories(archived)).toEqual({ synchronised: 3, inactive: 1 });
    expect(archived.totals.created + archived.totals.updated + archived.totals.deleted + archived.totals.archived).toBe(0);

    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${c.id}`, { status: 'publish' });
    const back = await runSync({ ...archiving, mode: 'Full' });
    expect(back.status, back.error).toBe('Succeeded');
    expect(categories(back)).toEqual({ synchronised: 4 });
  });
});
