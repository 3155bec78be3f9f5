import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import type { Entity } from '../../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import type { Row, Session, SideSpec, TableInfo } from '../../../../src/engine/connector.js';
import { EVENT_RESOURCE, wordpressWrite } from '../../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE } from '../../../helpers/wordpress-server.js';
import { postgresConnector } from '../../../../src/connectors/postgres/index.js';
import { initFilesContract } from './files-fixture.js';
import { initHttpContract, wordpressEntity } from './http-fixture.js';
import { planFlow } from '../../../../src/engine/plan.js';
import { CONNECTORS, collect, flowSpec, initContract, isSql, type ContractFixture, type SqlKind } from './setup.js';

/**
 * Seed 003: archiving a record alone moves its pair to inactive. A Full run sees it only through the
 * side's hash stream, so every connector's `streamHashes` carries the archived flag of each row,
 * the same flag its `rowsByKeys` gives (SIDE_LAYOUT), and archiving leaves the hash itself alone.
 */
const DDL: Record<SqlKind, string> = {
  postgres: `
    CREATE TABLE church (id int PRIMARY KEY, name text);
    CREATE TABLE accounts (nr int PRIMARY KEY, name text, inactive boolean NOT NULL DEFAULT false);
    INSERT INTO accounts VALUES (1, 'Ann', false), (2, 'Eve', true);`,
  mysql: `
    CREATE TABLE church (id int PRIMARY KEY, name varchar(40));
    CREATE TABLE accounts (nr int PRIMARY KEY, name varchar(40), inactive tinyint(1) NOT NULL DEFAULT 0);
    INSERT INTO accounts VALUES (1, 'Ann', 0), (2, 'Eve', 1);`,
};

const ENTITY: Entity = {
  name: 'people',
  source: { table: 'church', keys: ['id'] },
  target: { table: 'accounts', keys: ['nr'], archive: { column: 'inactive' } },
  fields: [
    { source: 'id', target: 'nr' },
    { source: 'name', target: 'name' },
  ],
};

/** A two-way side on one system: an active and an archived record, and a way to archive the first behind Ferry's back. */
interface ArchivedSide {
  session: Session;
  target: SideSpec;
  keys: [active: string, archived: string];
  /** Archives `key`; a system whose run sees no change made during it (files) answers with a session of the next run. */
  archive(key: string): Promise<Session | void>;
  close(): Promise<void>;
}

function sideSpec(spec: SyncFlowSpec, catalog: Map<string, TableInfo>): SideSpec {
  const plan = planFlow(withFlowDefaults({ ...spec, direction: 'TwoWay' }), (_side, table) => catalog.get(table)).entities[0];
  const reader = plan.reverse!;
  return { reader, writer: plan, mappings: [...reader.keyFields, ...reader.fields].sort((a, b) => a.mapping - b.mapping) };
}

async function sqlSide(kind: SqlKind): Promise<ArchivedSide> {
  const f: ContractFixture = await initContract(kind, 'side_archived', DDL);
  const session = await f.open();
  return {
    session,
    target: sideSpec(flowSpec(kind, [ENTITY]), await session.readCatalog('', ['church', 'accounts'])),
    keys: ['1', '2'],
    archive: (key) => f.db.exec(`UPDATE accounts SET inactive = ${kind === 'postgres' ? 'true' : '1'} WHERE nr = ${Number(key)}`),
    close: () => f.close(),
  };
}

/** WordPress posts as the side: a private post is archived (archive.value private, restored as publish). */
const POSTS: Entity = wordpressEntity({
  target: { table: EVENT_POST_TYPE, keys: ['id'], resource: EVENT_RESOURCE, archive: { column: 'status', value: 'private', restoreValue: 'publish' } },
  fields: [{ source: 'title', target: 'title' }],
} as Partial<Entity>);

async function httpSide(): Promise<ArchivedSide> {
  const f = await initHttpContract(POSTS);
  const keys: [string, string] = [await f.post({ title: 'Ann' }), await f.post({ title: 'Eve', status: 'private' })];
  const session = await f.open();
  return {
    session,
    target: sideSpec(f.spec, await session.readCatalog('', [EVENT_POST_TYPE])),
    keys,
    archive: async (key) => void (await wordpressWrite(f.wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}/${key}`, { status: 'private' })),
    close: () => f.close(),
  };
}

/** A partner's file as the side (a files side is always the flow's source): its inactive column archives; a newer snapshot archives behind Ferry's back. */
async function filesSide(): Promise<ArchivedSide> {
  const accounts = {
    name: 'people',
    source: { table: 'accounts', keys: ['nr'], archive: { column: 'inactive' } },
    target: { table: 'church', keys: ['id'] },
    fields: ENTITY.fields.map((f) => ({ source: f.target, target: f.source })),
  } as Entity;
  const f = await initFilesContract('side_archived', DDL.postgres, [accounts]);
  const header = ['nr', 'name', 'inactive'];
  await f.drop('accounts-1.csv', header, [['1', 'Ann', 'false'], ['2', 'Eve', 'true']]);
  const session = await f.open();
  const database = await postgresConnector(f.target.url, 'the contract target').open();
  const [files, tables] = [await session.readCatalog('', ['accounts']), await database.readCatalog('', ['church'])];
  await database.close();
  const plan = planFlow(withFlowDefaults({ ...f.spec, direction: 'TwoWay' }), (s, table) => (s === 'source' ? files : tables).get(table)).entities[0];
  return {
    session,
    target: { reader: plan, writer: plan.reverse!, mappings: [...plan.keyFields, ...plan.fields].sort((a, b) => a.mapping - b.mapping) },
    keys: ['1', '2'],
    archive: async () => {
      await f.drop('accounts-2.csv', header, [['1', 'Ann', 'true'], ['2', 'Eve', 'true']]);
      return f.nextRun();
    },
    close: () => f.close(),
  };
}

describe.each(CONNECTORS)('%s: a two-way side reports archived rows in its hash stream', (kind) => {
  const name = 'streams [key, hash, archived] with the flag and hash rowsByKeys gives';
  let side: ArchivedSide;
  beforeAll(async () => {
    side = isSql(kind) ? await sqlSide(kind) : kind === 'http' ? await httpSide() : await filesSide();
  }, 180_000);
  afterAll(() => side?.close());

  // Without orderedScan a stream comes in any order: compared by key.
  const byKeyOrder = (rows: Row[]) => [...rows].sort((a, b) => side.keys.indexOf(a[0]!) - side.keys.indexOf(b[0]!));

  it(name, async () => {
    const reader = side.session.sideReader(side.target);
    const [active, archived] = side.keys;
    const streamed = byKeyOrder(await collect(reader.streamHashes()));
    expect(streamed.map((r) => [r[0], r[2]])).toEqual([
      [active, 'f'],
      [archived, 't'],
    ]);
    // SIDE_LAYOUT: [key, cursor, epoch, hash, inScope, archived, ...].
    const byKey = new Map((await reader.rowsByKeys([[active], [archived]])).map((r) => [r[0], r]));
    for (const [key, hash, flag] of streamed) {
      expect(byKey.get(key)![3]).toBe(hash);
      expect(byKey.get(key)![5]).toBe(flag);
    }
    // Archiving changes the flag, not the hash (which covers the fields Ferry writes).
    const next = (await side.archive(active)) ?? side.session;
    const after = byKeyOrder(await collect(next.sideReader(side.target).streamHashes()));
    expect(after.map((r) => [r[0], r[1], r[2]])).toEqual([
      [active, streamed[0][1], 't'],
      [archived, streamed[1][1], 't'],
    ]);
  });
});
