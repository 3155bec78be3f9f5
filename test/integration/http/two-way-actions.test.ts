import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, ConflictPolicy, SideCondition } from '../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { resolutionFromFlags } from '../../../src/cli/resolve.js';
import { connectorFor } from '../../../src/connectors/index.js';
import { runSync } from '../../../src/connectors/run.js';
import type { RunReport } from '../../../src/engine/report.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { listPairs } from '../../../src/engine/two-way/inspect.js';
import { createLogger } from '../../../src/util/logger.js';
import { withClient } from '../../helpers/databases.js';
import { startWordPressWorld, wordpressCredentials, wordpressRecords, wordpressSystem, wordpressWrite, type WordPressWorld } from '../../helpers/wordpress-flows.js';

/**
 * Two-way flows between a PostgreSQL table and the posts of a WordPress custom post type (a real
 * WordPress, reached through the tests' FAULT INJECTOR, which only passes requests on here): per-side
 * conditions, archive and delete on either side, the Manual conflict policy resolved as `ferry pairs` /
 * `ferry resolve` do, and the loop-protection window. Every case has its own post type, table and
 * flow, so the cases run side by side (most of their time is spent waiting on WordPress).
 */
const POST_TYPES = ['tw_conditions', 'tw_archive_src', 'tw_delete_src', 'tw_archive_tgt', 'tw_delete_tgt', 'tw_properties', 'tw_manual', 'tw_link', 'tw_window', 'tw_wp_source'] as const;
type PostType = (typeof POST_TYPES)[number];

const postTypesPlugin = `add_action('init', function () {
  foreach (['${POST_TYPES.join("', '")}'] as $type) {
    register_post_type($type, ['label' => $type, 'public' => true, 'show_in_rest' => true, 'rest_base' => $type, 'supports' => ['title', 'editor', 'custom-fields']]);
    foreach (['code', 'kind'] as $meta) register_post_meta($type, $meta, ['type' => 'string', 'single' => true, 'show_in_rest' => true]);
  }
});`;

const logger = createLogger({ level: 'silent', pretty: false });
let world: WordPressWorld;

beforeAll(async () => {
  world = await startWordPressWorld('wp_2way_actions', { extraPlugin: postTypesPlugin });
  // A site west of UTC: WordPress reads a modified_after without a zone in the site's time, so a filter
  // sent in UTC without one would skip the last five hours' changes.
  await wordpressWrite(world.wp, 'POST', '/wp/v2/settings', { timezone: 'America/New_York' });
  await withClient(world.sourceUrl, (c) =>
    c.query(`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$`),
  );
}, 180_000);

afterAll(() => world?.close());

interface FlowOptions {
  actions: Action[];
  sourceConditions?: SideCondition[];
  targetConditions?: SideCondition[];
  conflictPolicy?: ConflictPolicy;
  window?: string;
  /** WordPress as the flow's source and the table as its target (default: the other way round). */
  wordpressIsSource?: boolean;
}

/** The table `type` <-> the posts of `type`, linked by code; archived: the table's flag, the post's status private. */
function flow(type: PostType, o: FlowOptions): SyncFlowSpec {
  const table = { table: type, keys: ['id'], updatedAt: 'updated_at', archive: { column: 'archived' } };
  const posts = {
    table: type,
    keys: ['id'],
    updatedAt: 'modified',
    resource: { profile: type, fields: [{ name: 'code', pointer: '/meta/code' }, { name: 'kind', pointer: '/meta/kind' }] },
    archive: { column: 'status', value: 'private', restoreValue: 'publish' },
  };
  const database = { postgres: { secretRef: { name: 'db' } } };
  const site = wordpressSystem(world.proxy.origin);
  const [source, target] = o.wordpressIsSource ? [posts, table] : [table, posts];
  return {
    direction: 'TwoWay',
    source: o.wordpressIsSource ? site : database,
    target: o.wordpressIsSource ? database : site,
    ...(o.window ? { loopProtection: { window: o.window } } : {}),
    entities: [
      {
        name: 'items',
        source: { ...source, conditions: o.sourceConditions },
        target: { ...target, conditions: o.targetConditions },
        match: [{ source: 'code', target: 'code' }],
        fields: [
          { source: 'code', target: 'code' },
          { source: 'title', target: 'title' },
          { source: 'kind', target: 'kind' },
        ],
        actions: o.actions,
        ...(o.conflictPolicy ? { conflictPolicy: o.conflictPolicy } : {}),
      },
    ],
  } as unknown as SyncFlowSpec;
}

interface Item {
  code: string;
  title: string;
  kind: string;
}

/** One case's world: its table (updated_at moves on every update, so Ferry's own writes come back as echoes), its posts and its flow. */
async function setUp(type: PostType, o: FlowOptions, rows: Item[] = [], posts: Item[] = []) {
  await withClient(world.sourceUrl, async (c) => {
    await c.query(`CREATE TABLE ${type} (id serial PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL, kind text,
      archived boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 hour')`);
    await c.query(`CREATE TRIGGER ${type}_touch BEFORE UPDATE ON ${type} FOR EACH ROW EXECUTE FUNCTION touch()`);
    for (const r of rows) await c.query(`INSERT INTO ${type} (code, title, kind) VALUES ($1, $2, $3)`, [r.code, r.title, r.kind]);
  });
  for (const p of posts) await wordpressWrite(world.wp, 'POST', `/wp/v2/${type}`, { title: p.title, status: 'publish', meta: { code: p.code, kind: p.kind } });
  const [databaseUrl, siteCredentials] = [world.sourceUrl, wordpressCredentials(world.wp)];
  const request: Omit<RunRequest, 'mode'> = {
    flowId: `test/${type}`,
    spec: flow(type, o),
    sourceUrl: o.wordpressIsSource ? siteCredentials : databaseUrl,
    targetUrl: o.wordpressIsSource ? databaseUrl : siteCredentials,
    stateUrl: world.stateUrl,
    logger,
  };
  const run = async (mode: RunRequest['mode'] = 'Full', extra: Partial<RunRequest> = {}) => {
    const report = await runSync({ ...request, mode, ...extra });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.rejectedSamples).toEqual([]);
    return report;
  };
  const table = () =>
    withClient(world.sourceUrl, async (c) => (await c.query(`SELECT code, title, kind, archived FROM ${type} ORDER BY code`)).rows as (Item & { archived: boolean })[]);
  const site = async () =>
    (await wordpressRecords(world.wp, type, { allStatuses: true }))
      .map((p) => {
        const meta = p.meta as Record<string, string>;
        return { id: Number(p.id), code: meta.code, title: (p.title as { raw: string }).raw, kind: meta.kind, status: String(p.status) };
      })
      .sort((a, b) => a.code.localeCompare(b.code));
  const post = async (code: string) => (await site()).find((p) => p.code === code)!;
  /** An editor's change on the site, a second after anything before it (WordPress keeps whole seconds). */
  const editPost = async (code: string, body: Record<string, unknown>) => {
    await new Promise((r) => setTimeout(r, 1_100));
    await wordpressWrite(world.wp, 'POST', `/wp/v2/${type}/${(await post(code)).id}`, body);
  };
  const deletePost = async (code: string) => wordpressWrite(world.wp, 'DELETE', `/wp/v2/${type}/${(await post(code)).id}?force=true`);
  const sql = (text: string, values: unknown[] = []) => withClient(world.sourceUrl, async (c) => (await c.query(text, values)).rows);
  const pairs = () =>
    withClient(world.stateUrl, async (c) => (await c.query(`SELECT category FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = $1 ORDER BY category`, [request.flowId])).rows.map((r) => r.category as string));
  return { request, run, table, site, post, editPost, deletePost, sql, pairs };
}

const items = (report: RunReport) => report.entities.find((e) => e.name === 'items')!;
const written = (report: RunReport) => report.totals.created + report.totals.updated + report.totals.archived + report.totals.deleted;
const titles = (rows: { code: string; title: string }[]) => rows.map((r) => `${r.code}: ${r.title}`);

describe.concurrent('PostgreSQL table <-> WordPress posts, two-way: conditions and the ten actions', () => {
  it('per-side conditions: export checks the table’s, import the site’s; link searches the other side whole; an update needs one side in scope', async () => {
    const members = (field: string) => [{ field, values: ['member'] }];
    const w = await setUp(
      'tw_conditions',
      { actions: ['link', 'createInTarget', 'createInSource', 'updateNewerWins'], sourceConditions: members('kind'), targetConditions: members('kind') },
      [
        { code: 'A', title: 'Ann (table)', kind: 'member' },
        { code: 'B', title: 'Bob (table)', kind: 'guest' },
        { code: 'F', title: 'Flo (table)', kind: 'member' },
      ],
      [
        { code: 'C', title: 'Cy (site)', kind: 'member' },
        { code: 'D', title: 'Di (site)', kind: 'guest' },
        { code: 'F', title: 'Flo (site)', kind: 'guest' },
      ],
    );
    const first = await w.run();
    // A: exported; C: imported; F: the table's member found its partner among the site's guests and
    // the newer post won; B and D meet no condition on their own side and stay unpaired.
    expect(items(first)).toMatchObject({ linked: 1, created: 2 });
    expect(items(first).twoWay).toMatchObject({ createdInTarget: 1, createdInSource: 1, unpaired: 2 });
    expect(items(first).categories).toEqual({ synchronised: 3, new: 2 });
    expect(titles(await w.table())).toEqual(['A: Ann (table)', 'B: Bob (table)', 'C: Cy (site)', 'F: Flo (site)']);
    expect(titles(await w.site())).toEqual(['A: Ann (table)', 'C: Cy (site)', 'D: Di (site)', 'F: Flo (site)']);
    expect((await w.table()).find((r) => r.code === 'F')?.kind).toBe('guest');

    // F is now a guest on both sides: its pair is in scope on neither, so a change is left alone.
    // A turns guest on the site but is still a member in the table: in scope on one side, it flows.
    await w.sql(`UPDATE tw_conditions SET title = 'Flo (moved)' WHERE code = 'F'`);
    await w.editPost('A', { title: 'Ann (site)', meta: { kind: 'guest' } });
    const second = await w.run();
    expect(items(second).twoWay).toMatchObject({ updatedSource: 1, updatedTarget: 0, unpaired: 2 });
    expect(items(second).skipped).toBe(3); // F, and the unpaired B and D
    expect((await w.post('F')).title).toBe('Flo (site)');
    expect((await w.table()).find((r) => r.code === 'A')).toMatchObject({ title: 'Ann (site)', kind: 'guest' });
  });

  it('archiveInSource: a post deleted on the site archives its table row; the pair is inactive; a record gone from both sides loses its pair', async () => {
    const w = await setUp('tw_archive_src', { actions: ['createInTarget', 'archiveInSource'] }, [
      { code: 'K', title: 'Kai', kind: 'member' },
      { code: 'L', title: 'Lu', kind: 'member' },
      { code: 'M', title: 'Mo', kind: 'member' },
    ]);
    expect(items(await w.run()).twoWay).toMatchObject({ createdInTarget: 3 });
    await w.deletePost('L');
    await w.deletePost('K');
    await w.sql(`DELETE FROM tw_archive_src WHERE code = 'K'`);
    const report = await w.run();
    expect(items(report).twoWay).toMatchObject({ archivedSource: 1, archivedTarget: 0, deletedSource: 0, createdInTarget: 0 });
    expect(report.totals.archived).toBe(1);
    expect(items(report).categories).toEqual({ synchronised: 1, inactive: 1 });
    expect((await w.table()).map((r) => `${r.code} ${r.archived}`)).toEqual(['L true', 'M false']);
    expect(titles(await w.site())).toEqual(['M: Mo']);
    expect(await w.pairs()).toEqual(['inactive', 'synchronised']);
    expect(written(await w.run())).toBe(0);
  });

  it('deleteInSource: a post deleted on the site deletes its table row, whatever the site’s conditions; the pair goes', async () => {
    const w = await setUp('tw_delete_src', { actions: ['createInTarget', 'deleteInSource'], targetConditions: [{ field: 'kind', values: ['nobody'] }] }, [
      { code: 'M', title: 'Mo', kind: 'member' },
      { code: 'N', title: 'Ned', kind: 'member' },
    ]);
    expect(items(await w.run()).twoWay).toMatchObject({ createdInTarget: 2 });
    await w.deletePost('M');
    const report = await w.run();
    expect(items(report).twoWay).toMatchObject({ deletedSource: 1, deletedTarget: 0, createdInTarget: 0 });
    expect(report.totals.deleted).toBe(1);
    expect(titles(await w.table())).toEqual(['N: Ned']);
    expect(titles(await w.site())).toEqual(['N: Ned']);
    expect(await w.pairs()).toEqual(['synchronised']);
    expect(written(await w.run())).toBe(0);
  });

  it('archiveInTarget: a row deleted in the table makes its post private; it is not created again; back in the table, its change waits until the post is published again', async () => {
    const w = await setUp('tw_archive_tgt', { actions: ['createInTarget', 'archiveInTarget', 'updateNewerWins'] }, [
      { code: 'O', title: 'Oz', kind: 'member' },
      { code: 'P', title: 'Pia', kind: 'member' },
    ]);
    await w.run();
    const [gone] = await w.sql(`DELETE FROM tw_archive_tgt WHERE code = 'O' RETURNING id`);
    const report = await w.run();
    expect(items(report).twoWay).toMatchObject({ archivedTarget: 1, archivedSource: 0, deletedTarget: 0, createdInSource: 0 });
    expect(report.totals.archived).toBe(1);
    expect(items(report).categories).toEqual({ synchronised: 1, inactive: 1 });
    // Ferry maps no status, so WordPress made its posts drafts: O is private now, P still a draft.
    expect((await w.site()).map((p) => `${p.code} ${p.status}`)).toEqual(['O private', 'P draft']);
    expect(titles(await w.table())).toEqual(['P: Pia']);
    expect(written(await w.run())).toBe(0);

    await w.sql(`INSERT INTO tw_archive_tgt (id, code, title, kind, updated_at) VALUES ($1, 'O', 'Oz (back)', 'member', now())`, [gone.id]);
    // The post is still archived, so the pair stays inactive and the row's change is held back (as between two databases)...
    const back = await w.run();
    expect(items(back).twoWay).toMatchObject({ heldInactive: 1, updatedTarget: 0, createdInTarget: 0 });
    expect(items(back).categories).toEqual({ synchronised: 1, inactive: 1 });
    expect((await w.post('O')).title).toBe('Oz');
    // ...until an editor publishes the post again: that run sends the held-back change, though the post is newer.
    await w.editPost('O', { status: 'publish' });
    const reactivated = await w.run();
    expect(items(reactivated).twoWay).toMatchObject({ updatedTarget: 1, updatedSource: 0 });
    expect(items(reactivated).categories).toEqual({ synchronised: 2 });
    expect((await w.site()).map((p) => `${p.code} ${p.title} ${p.status}`)).toEqual(['O Oz (back) publish', 'P Pia draft']);
    expect(titles(await w.table())).toEqual(['O: Oz (back)', 'P: Pia']);
    expect(written(await w.run())).toBe(0);
  });

  it('deleteInTarget: a row deleted in the table deletes its post, only where the post meets the site’s conditions', async () => {
    const w = await setUp('tw_delete_tgt', { actions: ['createInTarget', 'deleteInTarget'], targetConditions: [{ field: 'kind', values: ['member'] }] }, [
      { code: 'Q', title: 'Quin', kind: 'member' },
      { code: 'R', title: 'Ray', kind: 'member' },
      { code: 'S', title: 'Sue', kind: 'member' },
    ]);
    await w.run();
    // Sue's post no longer meets the site's conditions: her pair is kept as deleted, her post stays.
    await w.editPost('S', { meta: { kind: 'donor' } });
    await w.sql(`DELETE FROM tw_delete_tgt WHERE code IN ('Q', 'S')`);
    // The cases run side by side through one proxy: count this case's requests only.
    const requestsFrom = (start: number) => world.proxy.requests.slice(start).filter((r) => r.path.includes('/tw_delete_tgt'));
    const beforeDry = world.proxy.requests.length;
    const dry = await w.run('Full', { dryRun: true });
    expect(items(dry).twoWay).toMatchObject({ deletedTarget: 1 });
    expect(requestsFrom(beforeDry).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(titles(await w.site())).toEqual(['Q: Quin', 'R: Ray', 'S: Sue']);

    // The DELETE is carried out, then its answer lost (FAULT INJECTOR): the retry finds the post gone, as wanted.
    const beforeCut = world.proxy.requests.length;
    world.proxy.inject({ kind: 'cutAfterResponse' }, { match: { method: 'DELETE', path: /\/tw_delete_tgt\// }, count: 1 });
    const report = await w.run();
    expect(requestsFrom(beforeCut).filter((r) => r.method === 'DELETE' && r.forwarded)).toHaveLength(2);
    expect(items(report).twoWay).toMatchObject({ deletedTarget: 1, deletedSource: 0, createdInSource: 0 });
    expect(report.totals.deleted).toBe(1);
    expect(items(report).categories).toEqual({ synchronised: 1, deleted: 1 });
    expect(titles(await w.site())).toEqual(['R: Ray', 'S: Sue']);
    expect(titles(await w.table())).toEqual(['R: Ray']);
    expect(await w.pairs()).toEqual(['deleted', 'synchronised']);
  });

  it('updateSource takes the site’s changes into the table and never writes the site; updateTarget the other way round', async () => {
    const w = await setUp('tw_properties', { actions: ['link', 'updateSource'] }, [{ code: 'T', title: 'Tom', kind: 'member' }], [{ code: 'T', title: 'Tom', kind: 'member' }]);
    expect(items(await w.run())).toMatchObject({ linked: 1, created: 0 });
    await w.editPost('T', { meta: { kind: 'donor' } });
    const imported = await w.run();
    expect(items(imported).twoWay).toMatchObject({ updatedSource: 1, updatedTarget: 0 });
    expect((await w.table())[0]).toMatchObject({ title: 'Tom', kind: 'donor' });
    await w.sql(`UPDATE tw_properties SET title = 'Tom (table)'`);
    const notExported = await w.run();
    expect(items(notExported).twoWay).toMatchObject({ updatedSource: 0, updatedTarget: 0 });
    expect(items(notExported).skipped).toBe(1);
    expect(await w.post('T')).toMatchObject({ title: 'Tom', kind: 'donor' });

    const exporting = flow('tw_properties', { actions: ['link', 'updateTarget'] });
    const exported = await w.run('Full', { spec: exporting });
    expect(items(exported).twoWay).toMatchObject({ updatedSource: 0, updatedTarget: 1 });
    expect(await w.post('T')).toMatchObject({ title: 'Tom (table)', kind: 'donor' });
    await w.editPost('T', { title: 'Tom (site)' });
    const notImported = await w.run('Full', { spec: exporting });
    expect(items(notImported).twoWay).toMatchObject({ updatedSource: 0, updatedTarget: 0 });
    expect(items(notImported).skipped).toBe(1);
    expect((await w.table())[0].title).toBe('Tom (table)');
  });
});

describe.concurrent('WordPress posts <-> PostgreSQL table, two-way: the API as the flow’s source', () => {
  it('the site’s conditions pick what is exported; deleteInSource deletes a post whose row went; archiveInTarget archives a row whose post went', async () => {
    const w = await setUp(
      'tw_wp_source',
      { actions: ['link', 'createInTarget', 'createInSource', 'updateNewerWins', 'deleteInSource', 'archiveInTarget'], wordpressIsSource: true, sourceConditions: [{ field: 'kind', values: ['member'] }] },
      [{ code: 'B', title: 'Bea (table)', kind: 'guest' }],
      [
        { code: 'A', title: 'Abe (site)', kind: 'member' },
        { code: 'C', title: 'Cal (site)', kind: 'guest' },
        { code: 'D', title: 'Dot (site)', kind: 'member' },
      ],
    );
    const first = await w.run();
    // A and D go to the table; C is out of the site's conditions; B (the table has none) goes to the site.
    expect(items(first).twoWay).toMatchObject({ createdInTarget: 2, createdInSource: 1, unpaired: 1 });
    expect(titles(await w.table())).toEqual(['A: Abe (site)', 'B: Bea (table)', 'D: Dot (site)']);
    expect(titles(await w.site())).toEqual(['A: Abe (site)', 'B: Bea (table)', 'C: Cal (site)', 'D: Dot (site)']);

    await w.sql(`DELETE FROM tw_wp_source WHERE code = 'A'`);
    await w.deletePost('D');
    const report = await w.run();
    expect(items(report).twoWay).toMatchObject({ deletedSource: 1, archivedTarget: 1, deletedTarget: 0, archivedSource: 0, createdInTarget: 0, createdInSource: 0 });
    expect(titles(await w.site())).toEqual(['B: Bea (table)', 'C: Cal (site)']);
    expect((await w.table()).map((r) => `${r.code} ${r.archived}`)).toEqual(['B false', 'D true']);
    expect(items(report).categories).toEqual({ synchronised: 1, inactive: 1, new: 1 });
    expect(written(await w.run())).toBe(0);
  });
});

describe.concurrent('PostgreSQL table <-> WordPress posts, two-way: conflicts and loop protection', () => {
  it('Manual: both sides changed is a conflict left untouched, listed as `ferry pairs` lists it, resolved as `ferry resolve` resolves it', async () => {
    const w = await setUp('tw_manual', { actions: ['link', 'createInTarget', 'updateNewerWins'], conflictPolicy: 'Manual' }, [
      { code: 'U', title: 'Una', kind: 'member' },
      { code: 'V', title: 'Vic', kind: 'member' },
    ]);
    await w.run();
    await w.sql(`UPDATE tw_manual SET title = 'Una (table)', kind = 'donor' WHERE code = 'U'`);
    await w.editPost('U', { title: 'Una (site)' });
    const conflicted = await w.run();
    expect(items(conflicted).twoWay).toMatchObject({ conflicts: 1, updatedSource: 0, updatedTarget: 0 });
    expect(items(conflicted).categories).toEqual({ synchronised: 1, conflict: 1 });
    expect(written(conflicted)).toBe(0);
    expect((await w.table()).find((r) => r.code === 'U')).toMatchObject({ title: 'Una (table)', kind: 'donor' });
    expect(await w.post('U')).toMatchObject({ title: 'Una (site)', kind: 'member' });
    // Still a conflict, and still untouched, on the next Incremental run.
    const incremental = await w.run('Incremental');
    expect(items(incremental).categories).toEqual({ synchronised: 1, conflict: 1 });
    expect(await w.post('U')).toMatchObject({ title: 'Una (site)', kind: 'member' });

    const spec = w.request.spec;
    const listed = await listPairs({
      flowId: w.request.flowId,
      spec,
      connectors: { source: (await connectorFor(spec, 'source', w.request.sourceUrl))!, target: (await connectorFor(spec, 'target', w.request.targetUrl))! },
      stateUrl: world.stateUrl,
      category: 'conflict',
      limit: 10,
      logger,
    });
    const postId = String((await w.post('U')).id);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ entity: 'items', targetKey: postId, category: 'conflict', sourceMissing: false, targetMissing: false });
    expect(listed[0].differences).toEqual(
      expect.arrayContaining([
        { source: 'title', target: 'title', sourceValue: 'Una (table)', targetValue: 'Una (site)' },
        { source: 'kind', target: 'kind', sourceValue: 'donor', targetValue: 'member' },
      ]),
    );
    expect(listed[0].differences).toHaveLength(2);

    // `ferry resolve --entity items --target-key ID --keep target --field title`, then `--keep source --field kind`.
    const resolve = (flags: Parameters<typeof resolutionFromFlags>[0]) => w.run('Resolve', { resolutions: [resolutionFromFlags(flags)] });
    await resolve({ entity: 'items', targetKey: postId, keep: 'target', field: ['title'] });
    expect((await w.table()).find((r) => r.code === 'U')).toMatchObject({ title: 'Una (site)', kind: 'donor' });
    expect(await w.pairs()).toEqual(['conflict', 'synchronised']);
    const settled = await resolve({ entity: 'items', targetKey: postId, keep: 'source', field: ['kind'] });
    expect(items(settled).categories).toEqual({ synchronised: 2 });
    expect(await w.post('U')).toMatchObject({ title: 'Una (site)', kind: 'donor' });
    expect((await w.table()).find((r) => r.code === 'U')).toMatchObject({ title: 'Una (site)', kind: 'donor' });

    // Synchronised again: the next change flows as usual, and a further Full writes nothing.
    await w.editPost('U', { title: 'Una (after)' });
    const next = await w.run();
    expect(items(next).twoWay).toMatchObject({ updatedSource: 1, conflicts: 0 });
    expect((await w.table()).find((r) => r.code === 'U')?.title).toBe('Una (after)');
    expect(written(await w.run())).toBe(0);

    // A conflict found by an Incremental run, resolved for the whole record by the row's key (`--key ID --keep source`).
    await w.sql(`UPDATE tw_manual SET title = 'Vic (table)' WHERE code = 'V'`);
    await w.editPost('V', { title: 'Vic (site)' });
    const found = await w.run('Incremental');
    expect(items(found).twoWay).toMatchObject({ conflicts: 1, updatedSource: 0, updatedTarget: 0 });
    expect(items(found).categories).toEqual({ synchronised: 1, conflict: 1 });
    const [{ id }] = await w.sql(`SELECT id FROM tw_manual WHERE code = 'V'`);
    const kept = await resolve({ entity: 'items', key: String(id), keep: 'source' });
    expect(items(kept).categories).toEqual({ synchronised: 2 });
    expect((await w.post('V')).title).toBe('Vic (table)');
    expect((await w.table()).find((r) => r.code === 'V')?.title).toBe('Vic (table)');
  });

  it('Link (ferry resolve --link) joins a row and a post the match missed and unifies them; Deactivate, Reactivate; Unlink forgets the pair', async () => {
    const w = await setUp('tw_link', { actions: ['link', 'updateNewerWins'], conflictPolicy: 'SourceWins' }, [{ code: 'Z1', title: 'Zed', kind: 'member' }], [{ code: 'Z2', title: 'Zedekiah', kind: 'guest' }]);
    const first = await w.run();
    expect(items(first)).toMatchObject({ linked: 0 });
    expect(items(first).categories).toEqual({ new: 2 });
    const [{ id }] = await w.sql(`SELECT id FROM tw_link`);
    const postId = String((await w.post('Z2')).id);

    const linked = await w.run('Resolve', { resolutions: [resolutionFromFlags({ entity: 'items', link: `${id}=${postId}` })] });
    expect(items(linked).linked).toBe(1);
    expect(items(linked).categories).toEqual({ synchronised: 1 });
    expect(await w.site()).toEqual([{ id: Number(postId), code: 'Z1', title: 'Zed', kind: 'member', status: 'publish' }]);
    expect(written(await w.run())).toBe(0);

    // Deactivate stops syncing the pair; Reactivate sends what changed meanwhile.
    await w.run('Resolve', { resolutions: [resolutionFromFlags({ entity: 'items', targetKey: postId, deactivate: true })] });
    await w.sql(`UPDATE tw_link SET title = 'Zed (while deactivated)'`);
    const deactivated = await w.run();
    expect(items(deactivated).categories).toEqual({ deactivated: 1 });
    expect(written(deactivated)).toBe(0);
    expect((await w.post('Z1')).title).toBe('Zed');
    const reactivated = await w.run('Resolve', { resolutions: [resolutionFromFlags({ entity: 'items', key: String(id), reactivate: true })] });
    expect(items(reactivated).categories).toEqual({ synchronised: 1 });
    expect((await w.post('Z1')).title).toBe('Zed (while deactivated)');

    const unlinked = await w.run('Resolve', { resolutions: [resolutionFromFlags({ entity: 'items', targetKey: postId, unlink: true })] });
    expect(items(unlinked).categories).toEqual({});
    expect(await w.pairs()).toEqual([]);
  });

  it('echoes are not sent back; the window holds a site edit back after table -> site, and lets it through once it has passed', async () => {
    const w = await setUp('tw_window', { actions: ['link', 'createInTarget', 'updateNewerWins'], window: '1h' }, [{ code: 'W', title: 'Wyn', kind: 'member' }]);
    await w.run();
    await w.run('Incremental'); // settles the watermarks past Ferry's own create

    await w.sql(`UPDATE tw_window SET title = 'Wyn (table)'`);
    const forward = await w.run('Incremental');
    expect(items(forward).twoWay).toMatchObject({ updatedTarget: 1, updatedSource: 0 });
    expect((await w.post('W')).title).toBe('Wyn (table)');
    // Ferry's write moved the post's modified time: read back, it is an echo and goes nowhere.
    await new Promise((r) => setTimeout(r, 1_100));
    const quiet = await w.run('Incremental');
    expect(items(quiet).twoWay).toMatchObject({ updatedTarget: 0, updatedSource: 0 });
    expect(items(forward).twoWay!.echoes + items(quiet).twoWay!.echoes).toBeGreaterThanOrEqual(1);

    // A real edit on the site inside the window is held back (Incremental and Full alike).
    await w.editPost('W', { title: 'Wyn (site)' });
    const held = await w.run('Incremental');
    expect(items(held).twoWay).toMatchObject({ blocked: 1, updatedSource: 0 });
    expect(items(await w.run()).twoWay).toMatchObject({ blocked: 1, updatedSource: 0 });
    expect((await w.table())[0].title).toBe('Wyn (table)');

    // An hour later (the pair's clock moved back), the held edit goes through.
    await withClient(world.stateUrl, (c) =>
      c.query(`UPDATE ferry.pairs SET last_synced_at = last_synced_at - interval '61 minutes', held_until = held_until - interval '61 minutes' WHERE scope IN (SELECT id FROM ferry.pair_scopes WHERE flow = $1)`, [w.request.flowId]),
    );
    const released = await w.run('Incremental');
    expect(items(released).twoWay).toMatchObject({ released: 1, updatedSource: 1, blocked: 0 });
    expect((await w.table())[0].title).toBe('Wyn (site)');
    expect((await w.post('W')).title).toBe('Wyn (site)');

    // Now the window runs the other way: a table edit is held back.
    await w.sql(`UPDATE tw_window SET title = 'Wyn (table again)'`);
    expect(items(await w.run('Incremental')).twoWay).toMatchObject({ blocked: 1, updatedTarget: 0 });
    expect((await w.post('W')).title).toBe('Wyn (site)');
  });
});
