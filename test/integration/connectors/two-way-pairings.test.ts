import { describe, expect, it } from 'vitest';
import type { DatabaseKind } from '../../helpers/pairings.js';
import { people, spec, world, writes } from '../../helpers/two-way-world.js';

describe.each([
  ['postgres', 'postgres'],
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
  ['mysql', 'mysql'],
] as [DatabaseKind, DatabaseKind][])('two-way %s <-> %s', (sourceKind, targetKind) => {
  it('links by match, exports and imports new records with each side’s own ids, and a second run writes nothing', async () => {
    const w = await world(sourceKind, targetKind);
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('John', 'Smith', 'john@church.org', 'Member'), ('Ann', 'Lee', 'ann@church.org', 'Member')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES (' JOHN', 'smith ', 'john@old.org', 'Member'), ('Tom', 'Berg', 'tom@acc.org', 'Friend')`);
    const first = await w.run(spec(sourceKind, targetKind));
    expect(first.status).toBe('Succeeded');
    expect(people(first)).toMatchObject({ created: 2, linked: 1, rejected: 0 });
    expect(people(first).twoWay).toMatchObject({ createdInSource: 1, createdInTarget: 1 });
    const persons = await w.accountPersons();
    expect(persons.map((p) => `${p.name_first}|${p.name_last}`)).toEqual(['Tom|Berg', 'Ann|Lee', expect.stringMatching(/^(John| JOHN)\|(Smith|smith )$/)]);
    expect(persons.every((p) => Number(p.nr) >= 5000)).toBe(true);
    expect((await w.churchPeople()).map((p) => p.first_name)).toEqual(['Tom', 'Ann', expect.stringMatching(/john/i)]);

    const second = await w.run(spec(sourceKind, targetKind), 'Full');
    expect(writes(second)).toBe(0);
    const incremental = await w.run(spec(sourceKind, targetKind), 'Incremental');
    // Ferry's own writes bumped the modification times: they come back as echoes and are not sent back.
    expect(writes(incremental)).toBe(0);
  });

  it('an edit on either side travels to the other; the source conditions keep non-members home', async () => {
    const w = await world(sourceKind, targetKind);
    const s = spec(sourceKind, targetKind, { sourceConditions: [{ field: 'status', values: ['Member'] }] });
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@church.org', 'Member'), ('Vic', 'Guest', 'vic@church.org', 'Visitor')`);
    await w.run(s);
    expect((await w.accountPersons()).map((p) => p.name_first)).toEqual(['Ann']);
    await w.accounts.exec(`UPDATE persons SET mail = 'ann@accounts.org' WHERE name_first = 'Ann'`);
    const report = await w.run(s, 'Incremental');
    expect(people(report).updated).toBe(1);
    expect((await w.churchPeople()).find((p) => p.first_name === 'Ann')?.email).toBe('ann@accounts.org');
  });

  it('Manual conflicts wait for a Resolve run, which keeps the chosen side on both', async () => {
    const w = await world(sourceKind, targetKind);
    const s = spec(sourceKind, targetKind, { conflictPolicy: 'Manual' });
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@church.org', 'Member')`);
    await w.run(s);
    await w.church.exec(`UPDATE people SET email = 'church@new.org'`);
    await w.accounts.exec(`UPDATE persons SET mail = 'accounts@new.org'`);
    const conflicted = await w.run(s, 'Incremental');
    expect(writes(conflicted)).toBe(0);
    expect(people(conflicted).categories).toMatchObject({ conflict: 1 });
    const [ann] = await w.churchPeople();
    expect(ann.email).toBe('church@new.org');
    const resolved = await w.run(s, 'Resolve', { resolutions: [{ entity: 'people', sourceKey: (await w.church.rows(`SELECT id FROM people`))[0].id!, action: 'KeepTarget' }] });
    expect(resolved.status).toBe('Succeeded');
    expect((await w.churchPeople())[0].email).toBe('accounts@new.org');
    expect((await w.accountPersons())[0].mail).toBe('accounts@new.org');
  });

  it('a Record run works from the target side, and a source deletion archives the partner', async () => {
    const w = await world(sourceKind, targetKind);
    const s = spec(sourceKind, targetKind);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES ('Tom', 'Berg', 'tom@acc.org', 'Friend'), ('Uma', 'Ray', 'uma@acc.org', 'Friend')`);
    const [tom] = await w.accounts.rows(`SELECT nr FROM persons WHERE name_first = 'Tom'`);
    const record = await w.run(s, 'Record', { record: { entity: 'people', key: tom.nr!, side: 'Target' } });
    expect(record.status).toBe('Succeeded');
    expect((await w.churchPeople()).map((p) => p.first_name)).toEqual(['Tom']);

    await w.run(s);
    await w.church.exec(`DELETE FROM people WHERE first_name = 'Uma'`);
    const report = await w.run(s);
    expect(people(report).archived).toBe(1);
    const uma = (await w.accountPersons()).find((p) => p.name_first === 'Uma');
    expect(['1', 'true']).toContain(uma?.inactive);
  });

  it('a dry run writes to neither side', async () => {
    const w = await world(sourceKind, targetKind);
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@church.org', 'Member')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES ('Tom', 'Berg', 'tom@acc.org', 'Friend')`);
    const report = await w.run(spec(sourceKind, targetKind), 'Full', { dryRun: true });
    expect(report.status).toBe('Succeeded');
    expect(people(report)).toMatchObject({ created: 2, rejected: 0 });
    expect(await w.accountPersons()).toHaveLength(1);
    expect(await w.churchPeople()).toHaveLength(1);
  });
});
