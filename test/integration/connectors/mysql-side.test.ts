import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowRejection, Session, SideSpec } from '../../../src/engine/connector.js';
import { compareKeys } from '../../../src/engine/keys.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { collect, mysqlFixture, planEntity, type MysqlFixture } from '../../helpers/mysql-connector.js';

let db: MysqlFixture;
let session: Session;
let plan: EntityPlan;

beforeAll(async () => {
  db = await mysqlFixture('mysql_side');
  await db.exec([
    `CREATE TABLE crm_people (id INT NOT NULL PRIMARY KEY, name VARCHAR(50), email VARCHAR(80), status VARCHAR(10),
       modified DATETIME NOT NULL) ENGINE=InnoDB`,
    `CREATE TABLE site_users (login VARCHAR(20) NOT NULL PRIMARY KEY, display_name VARCHAR(50), mail VARCHAR(80),
       deleted TINYINT(1) NOT NULL DEFAULT 0, changed TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB`,
  ]);
  session = await db.open();
  plan = await planEntity(
    session,
    session,
    {
      name: 'people',
      source: { table: 'crm_people', keys: ['id'], updatedAt: 'modified', conditions: [{ field: 'status', operator: 'In', values: ['active'] }] },
      target: { table: 'site_users', keys: ['login'], updatedAt: 'changed', archive: { column: 'deleted' } },
      fields: [
        { source: 'id', target: 'login' },
        { source: 'name', target: 'display_name', transform: 'Upper' },
        { source: 'email', target: 'mail' },
      ],
      match: [{ source: 'email', target: 'mail', normalize: 'Lower' }],
    },
    'TwoWay',
  );
});

afterAll(async () => {
  await db?.close();
});

function sideOf(name: 'source' | 'target'): SideSpec {
  const reader = name === 'source' ? plan : plan.reverse!;
  const writer = name === 'source' ? plan.reverse! : plan;
  return { reader, writer, mappings: [...reader.keyFields, ...reader.fields].sort((a, b) => a.mapping - b.mapping) };
}

describe('MariaDB two-way side reader', () => {
  it('hashes a side exactly as its writer does, in the engine key order', async () => {
    const rejections: RowRejection[] = [];
    const writer = session.writer(plan);
    const logins = ['b', 'C', 'a ', 'é', 'Z'];
    await session.begin();
    await writer.stageRows(
      logins.map((login, seq) => ({ seq, key: [login], values: [`Name ${seq}`, `m${seq}@x.org`] })),
      rejections,
    );
    await writer.write([0, 1, 2, 3, 4], rejections, 'upsert');
    await session.commit();
    expect(rejections).toEqual([]);
    const target = session.sideReader(sideOf('target'));
    const streamed = await collect(target.streamHashes());
    expect(streamed.map((r) => r[0])).toEqual([...logins].sort(compareKeys));
    const current = await writer.currentHashes(logins.map((l) => [l]));
    for (const [login, hash] of streamed) expect(hash).toBe(current.get(login!));
    const rows = await target.rowsByKeys([['b'], ['a ']]);
    expect(rows.map((r) => r[0]).sort()).toEqual(['a ', 'b']);
    for (const row of rows) expect(row[3]).toBe(current.get(row[0]!));
  });

  it('returns keys, cursor, epoch seconds, hash, scope, archive flag, raw and transformed values and match values', async () => {
    await db.exec([
      "INSERT INTO crm_people VALUES (1, 'Ann', 'Ann@X.org', 'active', '2024-01-01 00:00:00'), (2, 'Bob', NULL, 'gone', '2024-01-01 00:00:00')",
      "INSERT INTO site_users (login, display_name, mail, deleted, changed) VALUES ('gone1', 'Gone', 'g@x.org', 1, '2024-01-01 00:00:01.500')",
    ]);
    const source = session.sideReader(sideOf('source'));
    const [ann] = await source.rowsByKeys([['1']]);
    expect(ann.slice(0, 2)).toEqual(['1', '2024-01-01 00:00:00']);
    expect(Number(ann[2])).toBe(Date.UTC(2024, 0, 1) / 1000);
    expect(ann[3]).toMatch(/^[0-9a-f]{32}$/);
    // inScope, archived (the source has no archive column in the reverse plan), raw ×3, out ×3, match.
    expect(ann.slice(4)).toEqual(['t', 'f', '1', 'Ann', 'Ann@X.org', '1', 'ANN', 'Ann@X.org', 'Ann@X.org']);
    const [bob] = await source.rowsByKeys([['2']]);
    expect(bob[4]).toBe('f');

    const target = session.sideReader(sideOf('target'));
    const [gone] = await target.rowsByKeys([['gone1']]);
    expect(gone.slice(0, 2)).toEqual(['gone1', '2024-01-01 00:00:01.500']);
    expect(Number(gone[2])).toBe(Date.UTC(2024, 0, 1) / 1000 + 1.5);
    expect(gone[5]).toBe('t');
  });

  it('reads changes tie-safe and knows its newest cursor', async () => {
    await db.exec("INSERT INTO crm_people VALUES (3, 'Cy', 'c@x.org', 'active', '2024-01-01 00:00:00'), (4, 'Di', 'd@x.org', 'active', '2024-01-02 00:00:00')");
    const source = session.sideReader(sideOf('source'));
    expect((await collect(source.changedSince(undefined))).map((r) => r[0])).toEqual(['1', '2', '3', '4']);
    expect((await collect(source.changedSince({ cursor: '2024-01-01 00:00:00+00', key: ['2'] }))).map((r) => r[0])).toEqual(['3', '4']);
    expect(await source.newestCursor()).toEqual({ cursor: '2024-01-02 00:00:00', key: ['4'] });
  });
});
