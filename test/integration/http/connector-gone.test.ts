import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../../src/connectors/http/client.js';
import { credentialsText } from '../../../src/connectors/http/client-config.js';
import type { HttpError } from '../../../src/connectors/http/errors.js';
import { runSync } from '../../../src/connectors/run.js';
import { encodeInteger, readablePart } from '../../../src/engine/keys.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import type { FaultProxy } from '../../helpers/fault-proxy.js';
import { eventsToWordPress, startWordPressWorld, wordpressCredentials, wordpressRecords, wordpressWrite, type WordPressWorld } from '../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, type RunningWordPress } from '../../helpers/wordpress-server.js';

/**
 * Records deleted in the API behind Ferry's back (a real WordPress, through the tests' FAULT
 * INJECTOR): an API gives a re-created record a new key, so the pair moves to it. With
 * createInTarget the record comes back (Incremental: its update answered 404; Full: the drift check
 * finds it gone); without createInTarget the update is rejected. And a write WordPress does not
 * allow the user (403: an author editing the admin's post) rejects that record, not the run; an
 * archive through a status field is undone with archive.restoreValue.
 */
const logger = createLogger({ level: 'silent', pretty: false });
let world: WordPressWorld;
let wp: RunningWordPress;
let proxy: FaultProxy;
let base: Omit<RunRequest, 'mode'>;

beforeAll(async () => {
  world = await startWordPressWorld('wp_gone', { association: true });
  ({ wp, proxy } = world);
  base = { flowId: 'test/wp-gone', spec: eventsToWordPress(proxy.origin), sourceUrl: world.sourceUrl, targetUrl: wordpressCredentials(wp), stateUrl: world.stateUrl, logger };
  const first = await runSync({ ...base, mode: 'Full' });
  if (first.status !== 'Succeeded') throw new Error(first.error);
}, 180_000);

afterAll(() => world?.close());

const meta = (post: Record<string, unknown>) => post.meta as Record<string, unknown>;
const postsOf = async (code: string) => (await wordpressRecords(wp, EVENT_POST_TYPE)).filter((p) => meta(p).event_code === code);
/** The post id an event's pair points at (keys are stored encoded; both are integers here). */
const pairOf = (sourceKey: string) =>
  withClient(base.stateUrl, async (c) => {
    const found = await c.query(`SELECT target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = $1 AND source_key = $2`, [base.flowId, encodeInteger(sourceKey)]);
    return found.rows[0] ? readablePart(found.rows[0].target_key as string) : undefined;
  });

/** Deletes an event's post in WordPress (skipping the trash), as a site editor could. */
async function deletePostOf(code: string): Promise<string> {
  const [post] = await postsOf(code);
  await wordpressWrite(wp, 'DELETE', `/wp/v2/${EVENT_POST_TYPE}/${post.id}?force=true`);
  return String(post.id);
}

async function touchEvent(offset: number, title: string): Promise<{ id: string; code: string }> {
  return withClient(base.sourceUrl, async (c) =>
    (await c.query(`UPDATE events SET title = $2, updated_at = now() WHERE id = (SELECT id FROM events ORDER BY code OFFSET $1 LIMIT 1) RETURNING id::text AS id, code`, [offset, title])).rows[0],
  );
}

const written = (r: { totals: { created: number; updated: number; deleted: number; archived: number } }) => r.totals.created + r.totals.updated + r.totals.deleted + r.totals.archived;

describe('a record deleted in the API', () => {
  it('Incremental: the update answered 404 creates the record again and moves the pair to its new key', async () => {
    const event = await touchEvent(0, 'Comes back after deletion');
    const oldId = await deletePostOf(event.code);
    proxy.reset();
    const report = await runSync({ ...base, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.rejected).toBe(0);
    expect(report.totals.updated).toBe(1);
    const posts = await postsOf(event.code);
    expect(posts).toHaveLength(1);
    expect((posts[0].title as { raw: string }).raw).toBe('Comes back after deletion');
    expect(String(posts[0].id)).not.toBe(oldId);
    expect(await pairOf(event.id)).toBe(String(posts[0].id));
    expect(proxy.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${EVENT_POST_TYPE}/${oldId}`))).toHaveLength(1);
    expect(proxy.reached('POST')).toBe(2); // the refused update, then the create

    const again = await runSync({ ...base, mode: 'Full' });
    expect(again.status, again.error).toBe('Succeeded');
    expect(written(again)).toBe(0);
  });

  it('Full: the drift check finds the record gone and creates it again, once', async () => {
    const [event] = await withClient(base.sourceUrl, async (c) => (await c.query(`SELECT id::text AS id, code FROM events ORDER BY code OFFSET 1 LIMIT 1`)).rows);
    const oldId = await deletePostOf(event.code);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created).toBe(1);
    expect(report.totals.rejected).toBe(0);
    const posts = await postsOf(event.code);
    expect(posts).toHaveLength(1);
    expect(String(posts[0].id)).not.toBe(oldId);
    expect(await pairOf(event.id)).toBe(String(posts[0].id));
    expect(written(await runSync({ ...base, mode: 'Full' }))).toBe(0);
  });

  it('a re-create whose response was lost is found by its match field: still one record', async () => {
    const event = await touchEvent(2, 'Lost answer on the way back');
    await deletePostOf(event.code);
    proxy.reset();
    proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'POST', path: new RegExp(`/${EVENT_POST_TYPE}$`) }, count: 1 });
    const report = await runSync({ ...base, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.rejected).toBe(0);
    const posts = await postsOf(event.code);
    expect(posts).toHaveLength(1);
    expect(await pairOf(event.id)).toBe(String(posts[0].id));
    expect(written(await runSync({ ...base, mode: 'Full' }))).toBe(0);
  });

  it('without createInTarget the update is rejected and nothing is created', async () => {
    const spec = eventsToWordPress(proxy.origin, ['link', 'updateTarget']);
    const event = await touchEvent(3, 'Not to be re-created');
    const oldId = await deletePostOf(event.code);
    const report = await runSync({ ...base, spec, mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.rejected).toBe(1);
    expect(report.rejectedSamples[0].reason).toContain(`the record ${oldId} is gone from the API`);
    expect(await postsOf(event.code)).toHaveLength(0);
  });
});

describe('a write the API does not allow (403)', () => {
  it('is classified forbidden (not an auth failure) and rejects that record alone', async () => {
    const author = await wordpressWrite(wp, 'POST', '/wp/v2/users', { username: 'ferry-author', email: 'author@example.org', password: randomBytes(12).toString('hex'), roles: ['author'] });
    const { password } = (await wordpressWrite(wp, 'POST', `/wp/v2/users/${author.id}/application-passwords`, { name: 'ferry-test' })) as { password: string };
    const [event] = await withClient(base.sourceUrl, async (c) => (await c.query(`SELECT code FROM events ORDER BY code OFFSET 5 LIMIT 1`)).rows);
    const [post] = await postsOf(event.code);

    const client = createHttpClient({ baseUrl: `${proxy.origin}/wp-json`, auth: { kind: 'basic', username: 'ferry-author', password } });
    const refused = await client.request({ method: 'POST', path: `/wp/v2/${EVENT_POST_TYPE}/${post.id}`, body: { title: 'not mine' } }).then(
      () => undefined,
      (e: unknown) => e as HttpError,
    );
    expect(refused?.kind).toBe('forbidden');
    expect(refused?.status).toBe(403);
    expect(refused?.attempts).toBe(1);
    expect(refused?.apiCode).toBe('rest_cannot_edit');

    const [a, b] = await Promise.all([touchEvent(5, 'Edited by someone without the right'), touchEvent(6, 'Also not allowed')]);
    const report = await runSync({ ...base, targetUrl: credentialsText({ auth: { username: 'ferry-author', password } }), mode: 'Incremental' });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.rejected).toBe(2);
    expect(report.rejectedSamples.map((r) => r.reason)).toEqual([expect.stringMatching(/^HTTP 403: Sorry, you are not allowed to edit this post/), expect.stringMatching(/^HTTP 403/)]);
    expect(new Set(report.rejectedSamples.map((r) => r.key))).toEqual(new Set([a.id, b.id]));
    expect(JSON.stringify(report)).not.toContain(password);
  });
});

describe('archive through a status field', () => {
  it('an event gone from the source archives its post as private; back in the source, the post is restored to restoreValue', async () => {
    const spec = eventsToWordPress(proxy.origin, ['link', 'createInTarget', 'updateTarget', 'archiveInTarget']);
    spec.entities[0].target.archive = { column: 'status', value: 'private', restoreValue: 'draft' };
    const request = { ...base, flowId: 'test/wp-archive', spec, stateUrl: await freshDatabase('wp_archive_state') };
    const copy = `INSERT INTO events SELECT id + 200000, code || '-ARCH', title, description, starts_at, ends_at, location, capacity, price,
        event_level_id, event_status_id, event_area_id, company_id, division_id, curriculum_type_id, tax_rule_id, vendor_id, created_at, now()
        FROM events WHERE id = (SELECT min(id) FROM events) RETURNING code`;
    const [{ code }] = await withClient(base.sourceUrl, async (c) => (await c.query(copy)).rows);
    expect((await runSync({ ...request, mode: 'Full' })).status).toBe('Succeeded');
    expect((await postsOf(code)).map((p) => p.status)).toEqual(['draft']);

    const saved = await withClient(base.sourceUrl, async (c) => (await c.query(`DELETE FROM events WHERE code = $1 RETURNING *`, [code])).rows[0]);
    const archived = await runSync({ ...request, mode: 'Full' });
    expect(archived.status, archived.error).toBe('Succeeded');
    expect(archived.totals.archived).toBe(1);
    expect((await postsOf(code)).map((p) => p.status)).toEqual(['private']);

    await withClient(base.sourceUrl, (c) =>
      c.query(`INSERT INTO events SELECT * FROM json_populate_record(NULL::events, $1)`, [JSON.stringify({ ...saved, updated_at: new Date().toISOString() })]),
    );
    const back = await runSync({ ...request, mode: 'Full' });
    expect(back.status, back.error).toBe('Succeeded');
    expect(back.totals.rejected).toBe(0);
    expect((await postsOf(code)).map((p) => p.status)).toEqual(['draft']);
  });
});
