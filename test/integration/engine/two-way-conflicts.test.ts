import { describe, expect, it } from 'vitest';
import type { ConflictPolicy } from '../../../src/api/entity.js';
import type { Resolution } from '../../../src/api/syncjob.js';
import { entityOf, peopleEntity, twoWaySpec, twoWayWorld, type PeopleOptions, type TwoWayWorld } from './two-way-fixture.js';

const ANN = `INSERT INTO people (first_name, last_name, email, status, family_status) VALUES ('Ann', 'Lee', 'ann@x.org', 'Member', 'Single')`;

async function linkedAnn(options: PeopleOptions) {
  const w = await twoWayWorld();
  await w.church(ANN);
  const spec = twoWaySpec([peopleEntity({ actions: ['link', 'createInTarget', 'updateNewerWins'], ...options })]);
  await w.run(spec);
  return { w, spec };
}

const sides = async (w: TwoWayWorld) => ({
  church: (await w.church(`SELECT email, last_name, family_status FROM people`))[0],
  accounts: (await w.accounts(`SELECT mail AS email, name_last AS last_name, marital AS family_status FROM persons`))[0],
});

describe('conflicts: both systems changed the same record since the last sync (seed 003)', () => {
  const policies: { policy: ConflictPolicy; editedLast: 'church' | 'accounts'; winner: 'church' | 'accounts' | 'none' }[] = [
    { policy: 'NewerWins', editedLast: 'church', winner: 'church' },
    { policy: 'NewerWins', editedLast: 'accounts', winner: 'accounts' },
    { policy: 'SourceWins', editedLast: 'accounts', winner: 'church' },
    { policy: 'TargetWins', editedLast: 'church', winner: 'accounts' },
    { policy: 'Manual', editedLast: 'church', winner: 'none' },
  ];
  it.each(policies)('$policy, $editedLast edited last: $winner wins', async ({ policy, editedLast, winner }) => {
    const { w, spec } = await linkedAnn({ conflictPolicy: policy });
    const editChurch = () => w.church(`UPDATE people SET email = 'ann@church.org'`);
    const editAccounts = () => w.accounts(`UPDATE persons SET mail = 'ann@accounts.org'`);
    if (editedLast === 'church') await editAccounts().then(editChurch);
    else await editChurch().then(editAccounts);

    const report = await w.run(spec);
    const after = await sides(w);
    if (winner === 'none') {
      expect(after.church.email).toBe('ann@church.org');
      expect(after.accounts.email).toBe('ann@accounts.org');
      expect(entityOf(report).twoWay?.conflicts).toBe(1);
      expect(entityOf(report).categories).toMatchObject({ conflict: 1 });
      // Still a conflict on the next run (Full and Incremental), and still untouched.
      const again = await w.run(spec);
      expect(entityOf(again).twoWay?.conflicts).toBe(1);
      await w.accounts(`UPDATE persons SET marital = 'Married'`);
      const incremental = await w.run(spec, 'Incremental');
      expect(entityOf(incremental).categories).toMatchObject({ conflict: 1 });
      expect((await sides(w)).church.family_status).toBe('Single');
      // Both systems changed it again: both Incremental passes read it, the conflict counts once.
      await w.church(`UPDATE people SET last_name = 'Lee-Church'`);
      await w.accounts(`UPDATE persons SET name_last = 'Lee-Accounts'`);
      const both = await w.run(spec, 'Incremental');
      expect(entityOf(both).twoWay?.conflicts).toBe(1);
      expect(entityOf(both).categories).toMatchObject({ conflict: 1 });
    } else {
      const email = winner === 'church' ? 'ann@church.org' : 'ann@accounts.org';
      expect(after).toEqual({ church: { ...after.church, email }, accounts: { ...after.accounts, email } });
      expect(entityOf(report).categories).toMatchObject({ synchronised: 1 });
    }
  });

  it('a per-field policy overrides the entity’s: Manual entity, e-mail SourceWins', async () => {
    const { w, spec } = await linkedAnn({ conflictPolicy: 'Manual', fieldPolicies: { email: 'SourceWins' } });
    await w.church(`UPDATE people SET email = 'ann@church.org'`);
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org'`);
    const report = await w.run(spec);
    expect(entityOf(report).twoWay?.conflicts).toBe(0);
    expect((await sides(w)).accounts.email).toBe('ann@church.org');

    // A differing field that stays Manual makes the whole record a conflict, left untouched.
    await w.church(`UPDATE people SET email = 'ann@church2.org', last_name = 'Church'`);
    await w.accounts(`UPDATE persons SET name_last = 'Accounts'`);
    const second = await w.run(spec);
    expect(entityOf(second).twoWay?.conflicts).toBe(1);
    expect((await sides(w)).accounts).toMatchObject({ email: 'ann@church.org', last_name: 'Accounts' });
  });

  it('per-field winners merge into both systems: entity SourceWins, e-mail TargetWins', async () => {
    const { w, spec } = await linkedAnn({ conflictPolicy: 'SourceWins', fieldPolicies: { email: 'TargetWins' } });
    await w.church(`UPDATE people SET email = 'ann@church.org', last_name = 'Church'`);
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org', name_last = 'Accounts'`);
    const report = await w.run(spec);
    const expected = { email: 'ann@accounts.org', last_name: 'Church', family_status: 'Single' };
    expect(await sides(w)).toEqual({ church: expected, accounts: expected });
    expect(entityOf(report).twoWay).toMatchObject({ updatedSource: 1, updatedTarget: 1 });
    expect(written(await w.run(spec))).toBe(0);
  });
});

const written = (r: { totals: { created: number; updated: number; archived: number; deleted: number } }) =>
  r.totals.created + r.totals.updated + r.totals.archived + r.totals.deleted;

describe('Resolve mode', () => {
  async function conflicted() {
    const { w, spec } = await linkedAnn({ conflictPolicy: 'Manual' });
    await w.church(`UPDATE people SET email = 'ann@church.org', last_name = 'Church'`);
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org', name_last = 'Accounts'`);
    await w.run(spec);
    const [{ id }] = await w.church(`SELECT id FROM people`);
    const [{ nr }] = await w.accounts(`SELECT nr FROM persons`);
    return { w, spec, sourceKey: String(id), targetKey: String(nr) };
  }
  const resolve = (w: TwoWayWorld, spec: ReturnType<typeof twoWaySpec>, resolutions: Resolution[]) => w.run(spec, 'Resolve', { resolutions });
  const category = async (w: TwoWayWorld) => (await w.state(`SELECT category FROM ferry.pairs`)).map((r) => r.category);

  it('KeepSource for the whole record updates the target and settles the pair', async () => {
    const { w, spec, sourceKey } = await conflicted();
    const report = await resolve(w, spec, [{ entity: 'people', sourceKey, action: 'KeepSource' }]);
    expect(report.rejectedSamples).toEqual([]);
    const expected = { email: 'ann@church.org', last_name: 'Church', family_status: 'Single' };
    expect(await sides(w)).toEqual({ church: expected, accounts: expected });
    expect(await category(w)).toEqual(['synchronised']);
    expect(written(await w.run(spec))).toBe(0);
  });

  it('KeepTarget per field leaves the other fields in conflict until they are resolved too', async () => {
    const { w, spec, targetKey } = await conflicted();
    await resolve(w, spec, [{ entity: 'people', targetKey, action: 'KeepTarget', fields: ['email'] }]);
    expect((await sides(w)).church).toMatchObject({ email: 'ann@accounts.org', last_name: 'Church' });
    expect(await category(w)).toEqual(['conflict']);
    await resolve(w, spec, [{ entity: 'people', targetKey, action: 'KeepSource', fields: ['last_name'] }]);
    const expected = { email: 'ann@accounts.org', last_name: 'Church', family_status: 'Single' };
    expect(await sides(w)).toEqual({ church: expected, accounts: expected });
    expect(await category(w)).toEqual(['synchronised']);
  });

  it('Deactivate stops syncing a pair; Reactivate takes over what changed meanwhile', async () => {
    const { w, spec } = await linkedAnn({});
    const [{ id }] = await w.church(`SELECT id FROM people`);
    await resolve(w, spec, [{ entity: 'people', sourceKey: String(id), action: 'Deactivate' }]);
    await w.church(`UPDATE people SET email = 'ann@new.org'`);
    const report = await w.run(spec);
    expect(entityOf(report).categories).toMatchObject({ deactivated: 1 });
    expect((await sides(w)).accounts.email).toBe('ann@x.org');
    await resolve(w, spec, [{ entity: 'people', sourceKey: String(id), action: 'Reactivate' }]);
    expect((await sides(w)).accounts.email).toBe('ann@new.org');
    expect(await category(w)).toEqual(['synchronised']);
  });

  it('Link joins two records the match keys missed, and unifies them; Unlink forgets the pair', async () => {
    const w = await twoWayWorld();
    await w.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Zed', 'Z', 'zed@x.org', 'Member')`);
    await w.accounts(`INSERT INTO persons (name_first, name_last, mail, category) VALUES ('Zedekiah', 'Z', 'zed@old.org', NULL)`);
    const spec = twoWaySpec([peopleEntity({ actions: ['link', 'updateNewerWins'], conflictPolicy: 'SourceWins' })]);
    expect(entityOf(await w.run(spec)).linked).toBe(0);
    const [{ id }] = await w.church(`SELECT id FROM people`);
    const [{ nr }] = await w.accounts(`SELECT nr FROM persons`);
    const linked = await resolve(w, spec, [{ entity: 'people', sourceKey: String(id), targetKey: String(nr), action: 'Link' }]);
    expect(entityOf(linked).linked).toBe(1);
    expect(await w.accounts(`SELECT name_first, mail, category FROM persons`)).toEqual([{ name_first: 'Zed', mail: 'zed@x.org', category: 'Member' }]);

    const again = await resolve(w, spec, [{ entity: 'people', sourceKey: String(id), targetKey: String(nr), action: 'Link' }]);
    expect(again.rejectedSamples[0].reason).toMatch(/already linked/);

    await resolve(w, spec, [{ entity: 'people', sourceKey: String(id), action: 'Unlink' }]);
    expect(await w.state(`SELECT * FROM ferry.pairs`)).toEqual([]);
  });

  it('an unknown pair is rejected with its reason and the other resolutions still apply', async () => {
    const { w, spec, sourceKey } = await conflicted();
    const report = await resolve(w, spec, [
      { entity: 'people', sourceKey: '999', action: 'KeepSource' },
      { entity: 'people', sourceKey, action: 'KeepTarget' },
    ]);
    expect(report.rejectedSamples).toEqual([{ entity: 'people', key: '999', reason: 'KeepSource: no pair with source key 999' }]);
    expect(await category(w)).toEqual(['synchronised']);
  });
});
