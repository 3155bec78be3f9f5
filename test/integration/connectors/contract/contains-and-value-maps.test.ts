import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entity, SideCondition, ValueMap } from '../../../../src/api/entity.js';
import { SOURCE_LAYOUT } from '../../../../src/engine/connector.js';
import type { EntityPlan } from '../../../../src/engine/plan.js';
import type { Session } from '../../../../src/engine/connector.js';
import { EVENT_POST_TYPE } from '../../../helpers/wordpress-server.js';
import { initFilesContract } from './files-fixture.js';
import { initHttpContract } from './http-fixture.js';
import { CONNECTORS, collect, initContract, type ConnectorKind, type SqlKind } from './setup.js';

/**
 * Seed 002: a person has several categories, and the condition is "Categories contains 150: Members";
 * one system's `Member` is the other's `150: Members`. Each connector compiles `Contains` (a list
 * column: a PostgreSQL array or a JSON array; or delimited text with a separator) and value maps.
 */
const DDL: Record<SqlKind, string> = {
  postgres: `
    CREATE TABLE members (id int PRIMARY KEY, status text, tags text[], cats jsonb, csv text);
    CREATE TABLE copy (id int PRIMARY KEY, status text);`,
  mysql: `
    CREATE TABLE members (id int PRIMARY KEY, status varchar(40), tags json, cats json, csv varchar(200));
    CREATE TABLE copy (id int PRIMARY KEY, status varchar(40));`,
};

const ROWS = [
  // id, status, tags (as a list), cats (JSON), csv
  [1, 'Member', ['150: Members', '300: Choir'], '["150: Members"]', '150: Members, 300: Choir'],
  [2, 'Friend', ['150: Members old'], '["150: Members old", 150]', '1500: Members,300: Choir'],
  [3, 'Visitor', [], '[]', ''],
  [4, null, null, null, null],
  [5, 'Member', ['300: Choir'], '{"150: Members": true}', ' 300: Choir ;x,  150: Members  '],
] as const;

function listLiteral(kind: SqlKind, items: readonly string[] | null): string {
  if (items === null) return 'NULL';
  if (kind === 'postgres') return `ARRAY[${items.map((i) => `'${i}'`).join(', ')}]::text[]`;
  return `'${JSON.stringify(items)}'`;
}

function entity(conditions: SideCondition[], valueMap?: ValueMap): Entity {
  return {
    name: 'members',
    source: { table: 'members', keys: ['id'], conditions },
    target: { table: 'copy', keys: ['id'] },
    fields: [
      { source: 'id', target: 'id' },
      { source: 'status', target: 'status', ...(valueMap ? { valueMap } : {}) },
    ],
  };
}

/** The members on each system: SQL rows (a list column is an array or JSON), or a partner's CSV (a list is JSON text there). */
async function membersOn(kind: ConnectorKind): Promise<{ plan(entity: Entity): Promise<EntityPlan>; open(): Promise<Session>; close(): Promise<void> }> {
  if (kind === 'files') {
    const f = await initFilesContract('contains_files', DDL.postgres, [entity([])]);
    await f.drop('members-1.csv', ['id', 'status', 'tags', 'cats', 'csv'], ROWS.map(([id, status, tags, cats, csv]) => [id, status, tags === null ? null : JSON.stringify(tags), cats, csv]));
    return f;
  }
  if (kind === 'http') {
    const f = await initHttpContract(httpEntity(entity([])), MEMBER_META_PLUGIN);
    for (const [id, status, tags, cats, csv] of ROWS) {
      // An object is no list: WordPress's array meta cannot hold one, so member 5 has no cats there.
      const list = cats === null || cats.startsWith('{') ? [] : (JSON.parse(cats) as unknown[]).map(String);
      await f.post({ title: `Member ${id}`, meta: { member_id: id, member_status: status ?? '', tags: tags ?? [], cats: list, csv: csv ?? '' } });
    }
    return { plan: (e) => f.plan(httpEntity(e)), open: f.open, close: f.close };
  }
  const f = await initContract(kind, 'contains', DDL);
  const text = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
  for (const [id, status, tags, cats, csv] of ROWS) {
    await f.db.exec(`INSERT INTO members VALUES (${id}, ${text(status)}, ${listLiteral(kind, tags)}, ${text(cats)}, ${text(csv)})`);
  }
  return f;
}

/** Members as WordPress posts: their fields are registered meta (lists as array meta, read as JSON). */
const MEMBER_META_PLUGIN = `add_action('init', function () {
  register_post_meta('${EVENT_POST_TYPE}', 'member_id', ['type' => 'integer', 'single' => true, 'show_in_rest' => true]);
  register_post_meta('${EVENT_POST_TYPE}', 'member_status', ['type' => 'string', 'single' => true, 'show_in_rest' => true]);
  register_post_meta('${EVENT_POST_TYPE}', 'csv', ['type' => 'string', 'single' => true, 'show_in_rest' => true]);
  foreach (['tags', 'cats'] as $list) {
    register_post_meta('${EVENT_POST_TYPE}', $list, ['type' => 'array', 'single' => true, 'show_in_rest' => ['schema' => ['type' => 'array', 'items' => ['type' => 'string']]]]);
  }
});`;

const MEMBERS = {
  profile: EVENT_POST_TYPE,
  fields: [
    { name: 'id', pointer: '/meta/member_id', type: 'integer' as const },
    { name: 'status', pointer: '/meta/member_status' },
    { name: 'tags', pointer: '/meta/tags', type: 'json' as const },
    { name: 'cats', pointer: '/meta/cats', type: 'json' as const },
    { name: 'csv', pointer: '/meta/csv' },
  ],
};

/** The case's entity on WordPress: both sides the members' posts, `id` the member number (a meta field). */
function httpEntity(e: Entity): Entity {
  return { ...e, source: { ...e.source, table: 'members', resource: MEMBERS }, target: { table: 'members', keys: ['id'], resource: MEMBERS } } as Entity;
}

describe.each(CONNECTORS)('%s: Contains conditions and value maps', (kind) => {
  let f: Awaited<ReturnType<typeof membersOn>>;
  beforeAll(async () => {
    f = await membersOn(kind);
  }, 180_000);
  afterAll(() => f?.close());

  async function inScope(conditions: SideCondition[]): Promise<number[]> {
    const plan = await f.plan(entity(conditions));
    const rows = await collect((await f.open()).reader(plan).scan(false));
    return rows.filter((r) => r[SOURCE_LAYOUT.inScope(plan)] === 't').map((r) => Number(r[0])).sort();
  }

  it('Contains matches a whole item of a list column, never a part of one', async () => {
    expect(await inScope([{ field: 'tags', operator: 'Contains', values: ['150: Members'] }])).toEqual([1]);
    expect(await inScope([{ field: 'cats', operator: 'Contains', values: ['150: Members'] }])).toEqual([1]);
    // A number in a JSON array compares with its text; an object is not a list.
    expect(await inScope([{ field: 'cats', operator: 'Contains', values: ['150'] }])).toEqual([2]);
  });

  it('Contains on delimited text splits at the separator and trims each item', async () => {
    expect(await inScope([{ field: 'csv', operator: 'Contains', values: ['150: Members'], separator: ',' }])).toEqual([1, 5]);
    expect(await inScope([{ field: 'csv', operator: 'Contains', values: ['x'], separator: ';' }])).toEqual([]);
    expect(await inScope([{ field: 'csv', operator: 'Contains', values: ['300: Choir'], separator: ';' }])).toEqual([5]);
  });

  it('Contains follows the AND/OR rules of every condition', async () => {
    // OR across the values of one condition.
    expect(await inScope([{ field: 'tags', operator: 'Contains', values: ['150: Members', '150: Members old'] }])).toEqual([1, 2]);
    // AND across conditions.
    expect(
      await inScope([
        { field: 'tags', operator: 'Contains', values: ['300: Choir'] },
        { field: 'status', values: ['Member'] },
      ]),
    ).toEqual([1, 5]);
    expect(
      await inScope([
        { field: 'tags', operator: 'Contains', values: ['300: Choir'] },
        { field: 'csv', operator: 'Contains', values: ['150: Members'], separator: ',' },
        { field: 'status', operator: 'NotIn', values: ['Friend'] },
      ]),
    ).toEqual([1, 5]);
  });

  async function statuses(valueMap: ValueMap): Promise<Record<number, string | null>> {
    const plan = await f.plan(entity([], valueMap));
    const rows = await collect((await f.open()).reader(plan).scan(true));
    const first = SOURCE_LAYOUT.firstValue(plan);
    const at = [...plan.keyFields, ...plan.fields].findIndex((field) => field.source === 'status');
    return Object.fromEntries(rows.map((r) => [Number(r[0]), r[first + at]]));
  }

  const entries = [
    { source: 'Member', target: '150: Members' },
    { source: 'Friend', target: '200: Friends' },
  ];

  it('a value map translates listed values and keeps, nulls or marks for rejection the others', async () => {
    expect(await statuses({ entries })).toEqual({ 1: '150: Members', 2: '200: Friends', 3: 'Visitor', 4: null, 5: '150: Members' });
    expect(await statuses({ entries, unmapped: 'Null' })).toEqual({ 1: '150: Members', 2: '200: Friends', 3: null, 4: null, 5: '150: Members' });
    expect((await statuses({ entries, unmapped: 'Reject' }))[3]).toBe('\u0001Visitor');
  });

  it('a value map compares the exact text (no collation folding case or trailing spaces)', async () => {
    expect(await statuses({ entries: [{ source: 'member', target: 'lower' }, { source: 'Member ', target: 'padded' }] })).toMatchObject({ 1: 'Member' });
  });

  it('the hash of a row follows the mapped value', async () => {
    const hashOf = async (valueMap: ValueMap) => {
      const plan = await f.plan(entity([], valueMap));
      const rows = await collect((await f.open()).reader(plan).scan(false));
      return rows.find((r) => r[0] === '1')![SOURCE_LAYOUT.hash(plan)];
    };
    expect(await hashOf({ entries })).not.toBe(await hashOf({ entries: [{ source: 'Member', target: '151: Members' }] }));
  });
});
