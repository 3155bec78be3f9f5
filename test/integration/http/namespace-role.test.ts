import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { openStateStore } from '../../../src/store/db.js';
import { issueNamespaceCredential, namespaceStateUrl } from '../../../src/store/tenant-roles.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { extraEventMetaPlugin, wordpressCredentials, wordpressToTable, wordpressWrite } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../helpers/wordpress-server.js';

/**
 * An http-source run as a sync Job makes it (issue 17): with its namespace's state-DB credential,
 * row-level security on. The unordered API list is staged in a temporary table on the state DB, so
 * this checks that path needs no more than the namespace role.
 */
const logger = createLogger({ level: 'silent', pretty: false });
let wp: RunningWordPress;

beforeAll(async () => {
  wp = await startWordPress({ extraPlugin: extraEventMetaPlugin() });
}, 180_000);

afterAll(async () => {
  await wp?.close();
});

describe('an http-source run under a namespace role', () => {
  it('Full and Incremental from WordPress posts, with the namespace credential; another namespace cannot run the flow', async () => {
    const [targetUrl, ownerStateUrl] = await Promise.all([freshDatabase('ns_http_dst'), freshDatabase('ns_http_state')]);
    await withClient(targetUrl, (c) => c.query(`CREATE TABLE website_events (post_id bigint PRIMARY KEY, title text, event_code text)`));
    const posts = [];
    for (let i = 0; i < 3; i++) posts.push(await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, { title: `Event ${i}`, status: 'publish', meta: { event_code: `EV-${i}` } }));
    await (await openStateStore(ownerStateUrl)).close();
    const roleUrl = async (namespace: string) => namespaceStateUrl(ownerStateUrl, await withClient(ownerStateUrl, (c) => issueNamespaceCredential(c, namespace)));
    const spec = wordpressToTable(wp.siteUrl, ['title', 'event_code'], ['link', 'createInTarget', 'updateTarget', 'deleteInTarget']);
    const request = { flowId: 'web/events', spec, sourceUrl: wordpressCredentials(wp), targetUrl, logger };
    const stateUrl = await roleUrl('web');

    const full = await runSync({ ...request, stateUrl, mode: 'Full' });
    expect(full.status, full.error).toBe('Succeeded');
    expect(full.totals.created).toBe(3);
    await new Promise((r) => setTimeout(r, 1_100)); // modified_gmt has whole seconds
    await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${posts[1].id}`, { title: 'Event 1 (moved)' });
    const incremental = await runSync({ ...request, stateUrl, mode: 'Incremental' });
    expect(incremental.status, incremental.error).toBe('Succeeded');
    expect(incremental.totals.updated).toBe(1);
    const rows = await withClient(targetUrl, async (c) => (await c.query(`SELECT title FROM website_events ORDER BY post_id`)).rows);
    expect(rows.map((r) => r.title)).toEqual(['Event 0', 'Event 1 (moved)', 'Event 2']);
    const pairs = await withClient(ownerStateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'web/events'`)).rows);
    expect(pairs).toEqual([{ n: 3 }]);

    // The flow's rows belong to namespace web: another namespace's role cannot write them.
    const other = await roleUrl('shop');
    const refused = await runSync({ ...request, stateUrl: other, mode: 'Full' }).catch((error: unknown) => error);
    expect(String(refused instanceof Error ? refused.message : (refused as { error?: string }).error)).toMatch(/row-level security/);
  });
});
