import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import type { Entity } from '../../../../src/api/entity.js';
import type { Session, SideSpec } from '../../../../src/engine/connector.js';
import { planFlow } from '../../../../src/engine/plan.js';
import { CONNECTORS, collect, contractIt, flowSpec, initContract, isSql, type ContractFixture, type SqlKind } from './setup.js';

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

describe.each(CONNECTORS)('%s: a two-way side reports archived rows in its hash stream', (kind) => {
  const name = 'streams [key, hash, archived] with the flag and hash rowsByKeys gives';
  if (!isSql(kind)) return contractIt(kind, ['twoWaySide'], name, () => {});
  let f: ContractFixture;
  let session: Session;
  let target: SideSpec;
  beforeAll(async () => {
    f = await initContract(kind, 'side_archived', DDL);
    session = await f.open();
    const catalog = await session.readCatalog('', ['church', 'accounts']);
    const plan = planFlow(withFlowDefaults({ ...flowSpec(kind, [ENTITY]), direction: 'TwoWay' }), (_side, table) => catalog.get(table)).entities[0];
    const reader = plan.reverse!;
    target = { reader, writer: plan, mappings: [...reader.keyFields, ...reader.fields].sort((a, b) => a.mapping - b.mapping) };
  });
  afterAll(() => f?.close());

  it(name, async () => {
    const side = session.sideReader(target);
    const streamed = await collect(side.streamHashes());
    expect(streamed.map((r) => [r[0], r[2]])).toEqual([
      ['1', 'f'],
      ['2', 't'],
    ]);
    // SIDE_LAYOUT: [key, cursor, epoch, hash, inScope, archived, ...].
    const byKey = new Map((await side.rowsByKeys([['1'], ['2']])).map((r) => [r[0], r]));
    for (const [key, hash, archived] of streamed) {
      expect(byKey.get(key)![3]).toBe(hash);
      expect(byKey.get(key)![5]).toBe(archived);
    }
    // Archiving changes the flag, not the hash (which covers the fields Ferry writes).
    await f.db.exec(`UPDATE accounts SET inactive = ${kind === 'postgres' ? 'true' : '1'} WHERE nr = 1`);
    const after = await collect(side.streamHashes());
    expect(after.map((r) => [r[0], r[1], r[2]])).toEqual([
      ['1', streamed[0][1], 't'],
      ['2', streamed[1][1], 't'],
    ]);
  });
});
