import { describe, expect, it } from 'vitest';
import type { SideCondition } from '../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import type { DatabaseKind } from '../../helpers/pairings.js';
import { people, spec, world, writes } from '../../helpers/two-way-world.js';

/**
 * Seed 002 both ways: the church's status `Member` is the accounts' category `150: Members`, and
 * the accounts side takes a person into account when its list of categories contains `150: Members`.
 * Seed 003: an inactive (archived) record is not synchronised until it is active again.
 */
const LIST_COLUMN: Record<DatabaseKind, string> = {
  postgres: `ALTER TABLE persons ADD COLUMN circles text[]`,
  mysql: `ALTER TABLE persons ADD COLUMN circles json`,
};
const list = (kind: DatabaseKind, items: string[]) => (kind === 'postgres' ? `ARRAY[${items.map((i) => `'${i}'`).join(', ')}]::text[]` : `'${JSON.stringify(items)}'`);

function mappedSpec(sourceKind: DatabaseKind, targetKind: DatabaseKind, sourceConditions?: SideCondition[]): SyncFlowSpec {
  return spec(sourceKind, targetKind, {
    ...(sourceConditions ? { sourceConditions } : {}),
    targetConditions: [{ field: 'circles', operator: 'Contains', values: ['150: Members', '151: Honorary'] }],
    fields: [
      { source: 'first_name', target: 'name_first' },
      { source: 'last_name', target: 'name_last' },
      { source: 'email', target: 'mail' },
      {
        source: 'status',
        target: 'category',
        valueMap: {
          entries: [
            { source: 'Member', target: '150: Members' },
            // Two church values mean the same accounts category; a change on the accounts side writes `Member`.
            { source: 'Full member', target: '150: Members', reverse: false },
            { source: 'Friend', target: '200: Friends' },
          ],
          unmapped: 'Reject',
        },
      },
    ],
  });
}

describe.each([
  ['postgres', 'postgres'],
  ['mysql', 'mysql'],
] as [DatabaseKind, DatabaseKind][])('value maps and Contains both ways, %s <-> %s', (sourceKind, targetKind) => {
  it('maps values in both directions without ping-pong, takes in accounts records by list membership, and rejects an unmapped value by name', async () => {
    const w = await world(sourceKind, targetKind);
    await w.accounts.exec(LIST_COLUMN[targetKind]);
    const s = mappedSpec(sourceKind, targetKind);
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES
      ('Ann', 'Lee', 'ann@church.org', 'Member'), ('Fay', 'Full', 'fay@church.org', 'Full member'), ('Vic', 'Guest', 'vic@church.org', 'Visitor')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category, circles) VALUES
      ('Tom', 'Berg', 'tom@acc.org', '200: Friends', ${list(targetKind, ['300: Choir', '150: Members'])}),
      ('Uma', 'Ray', 'uma@acc.org', '200: Friends', ${list(targetKind, ['300: Choir', '150: Members old'])})`);

    const first = await w.run(s);
    expect(first.status).toBe('Succeeded');
    expect(people(first)).toMatchObject({ created: 3, rejected: 1 });
    expect(first.rejectedSamples.map((r) => r.reason)).toEqual([expect.stringContaining('"Visitor" is not in its value map')]);
    const categories = Object.fromEntries((await w.accountPersons()).map((p) => [p.name_first, p.category]));
    expect(categories).toEqual({ Ann: '150: Members', Fay: '150: Members', Tom: '200: Friends', Uma: '200: Friends' });
    // Uma's circles do not contain a member category: the accounts side keeps her home.
    expect(Object.fromEntries((await w.churchPeople()).map((p) => [p.first_name, p.status]))).toEqual({ Ann: 'Member', Fay: 'Full member', Tom: 'Friend', Vic: 'Visitor' });

    // `Full member` and `150: Members` agree through the map: neither side is written again, in any mode.
    expect(writes(await w.run(s))).toBe(0);
    expect(writes(await w.run(s, 'Incremental'))).toBe(0);

    await w.accounts.exec(`UPDATE persons SET category = '150: Members' WHERE name_first = 'Tom'`);
    await w.accounts.exec(`UPDATE persons SET category = '200: Friends' WHERE name_first = 'Fay'`);
    const changed = await w.run(s, 'Incremental');
    expect(people(changed).updated).toBe(2);
    const statuses = Object.fromEntries((await w.churchPeople()).map((p) => [p.first_name, p.status]));
    expect(statuses).toMatchObject({ Tom: 'Member', Fay: 'Friend' });
    expect(writes(await w.run(s, 'Incremental'))).toBe(0);
  });

  it('an inactive pair is left alone until reactivated; the reactivating run syncs the newest values', async () => {
    const w = await world(sourceKind, targetKind);
    const s = spec(sourceKind, targetKind);
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@church.org', 'Member'), ('Bo', 'Ek', 'bo@church.org', 'Member')`);
    await w.run(s);
    const truth = targetKind === 'postgres' ? 'true' : '1';
    const falsity = targetKind === 'postgres' ? 'false' : '0';
    await w.accounts.exec(`UPDATE persons SET inactive = ${truth} WHERE name_first IN ('Ann', 'Bo')`);
    await w.run(s, 'Incremental');
    await w.church.exec(`UPDATE people SET email = 'ann@new.org' WHERE first_name = 'Ann'`);
    await w.church.exec(`UPDATE people SET email = 'bo@new.org' WHERE first_name = 'Bo'`);

    const held = await w.run(s, 'Incremental');
    expect(writes(held)).toBe(0);
    expect(people(held).twoWay).toMatchObject({ heldInactive: 2 });
    expect(people(held).categories).toMatchObject({ inactive: 2 });
    const full = await w.run(s);
    expect(writes(full)).toBe(0);
    expect(people(full).twoWay).toMatchObject({ heldInactive: 2 });
    expect((await w.accountPersons()).map((p) => p.mail).sort()).toEqual(['ann@church.org', 'bo@church.org']);

    // Ann becomes active again on her side; Bo is reactivated by hand.
    await w.accounts.exec(`UPDATE persons SET inactive = ${falsity} WHERE name_first = 'Ann'`);
    const reactivated = await w.run(s, 'Incremental');
    // Only Ann's row moved: Bo's held change waits in his pair (its old hashes) until he is reactivated.
    expect(people(reactivated).twoWay).toMatchObject({ updatedTarget: 1, heldInactive: 0 });
    expect((await w.accountPersons()).find((p) => p.name_first === 'Bo')?.mail).toBe('bo@church.org');
    const [bo] = await w.church.rows(`SELECT id FROM people WHERE first_name = 'Bo'`);
    const resolved = await w.run(s, 'Resolve', { resolutions: [{ entity: 'people', sourceKey: bo.id!, action: 'Reactivate' }] });
    expect(resolved.status).toBe('Succeeded');
    expect(resolved.rejectedSamples).toEqual([]);
    const persons = await w.accountPersons();
    expect(persons.map((p) => [p.name_first, p.mail, ['1', 'true'].includes(p.inactive!)])).toEqual([
      ['Bo', 'bo@new.org', false],
      ['Ann', 'ann@new.org', false],
    ]);
    expect(people(resolved).categories).toMatchObject({ synchronised: 2 });
  });
});

/**
 * The same maps across the two databases, both ways round, with a `Contains` condition on each side:
 * the church keeps its groups as delimited text (`Choir; Members`), the accounts as a list column.
 */
describe.each([
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
] as [DatabaseKind, DatabaseKind][])('value maps and Contains on both sides, %s <-> %s', (sourceKind, targetKind) => {
  it('creates and updates across the systems through the map, each side taking in records by its own list, with no ping-pong', async () => {
    const w = await world(sourceKind, targetKind);
    await w.accounts.exec(LIST_COLUMN[targetKind]);
    await w.church.exec(`ALTER TABLE people ADD COLUMN ${sourceKind === 'postgres' ? 'groups text' : '`groups` varchar(200)'}`);
    const s = mappedSpec(sourceKind, targetKind, [{ field: 'groups', operator: 'Contains', values: ['Members'], separator: ';' }]);
    const groups = sourceKind === 'postgres' ? 'groups' : '`groups`';
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status, ${groups}) VALUES
      ('Ann', 'Lee', 'ann@church.org', 'Member', 'Choir; Members'), ('Fay', 'Full', 'fay@church.org', 'Full member', ' Members '),
      ('Ned', 'Moe', 'ned@church.org', 'Member', 'Choir; Members old'), ('Vic', 'Guest', 'vic@church.org', 'Visitor', 'Members')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category, circles) VALUES
      ('Tom', 'Berg', 'tom@acc.org', '200: Friends', ${list(targetKind, ['300: Choir', '151: Honorary'])}),
      ('Uma', 'Ray', 'uma@acc.org', '200: Friends', ${list(targetKind, ['150: Members old'])})`);

    const first = await w.run(s);
    expect(first.status).toBe('Succeeded');
    // Ann and Fay go to accounts, Tom to the church; Ned and Uma stay home (no whole item matches); Vic is rejected by name.
    expect(people(first)).toMatchObject({ created: 3, rejected: 1 });
    expect(first.rejectedSamples.map((r) => r.reason)).toEqual([expect.stringContaining('"Visitor" is not in its value map')]);
    expect(Object.fromEntries((await w.accountPersons()).map((p) => [p.name_first, p.category]))).toEqual({
      Ann: '150: Members',
      Fay: '150: Members',
      Tom: '200: Friends',
      Uma: '200: Friends',
    });
    expect(Object.fromEntries((await w.churchPeople()).map((p) => [p.first_name, p.status]))).toEqual({
      Ann: 'Member',
      Fay: 'Full member',
      Ned: 'Member',
      Tom: 'Friend',
      Vic: 'Visitor',
    });
    expect(writes(await w.run(s))).toBe(0);
    expect(writes(await w.run(s, 'Incremental'))).toBe(0);

    // One change on each side, each through the map in its own direction.
    await w.church.exec(`UPDATE people SET status = 'Friend' WHERE first_name = 'Ann'`);
    await w.accounts.exec(`UPDATE persons SET category = '200: Friends' WHERE name_first = 'Fay'`);
    const changed = await w.run(s, 'Incremental');
    expect(people(changed).twoWay).toMatchObject({ updatedTarget: 1, updatedSource: 1 });
    expect((await w.accountPersons()).find((p) => p.name_first === 'Ann')?.category).toBe('200: Friends');
    expect((await w.churchPeople()).find((p) => p.first_name === 'Fay')?.status).toBe('Friend');
    expect(writes(await w.run(s, 'Incremental'))).toBe(0);
    expect(writes(await w.run(s))).toBe(0);
  });
});
