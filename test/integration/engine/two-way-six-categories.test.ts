import { describe, expect, it } from 'vitest';
import { PAIR_CATEGORIES } from '../../../src/api/syncflow.js';
import { listNewRecords } from '../../../src/cli/unpaired.js';
import { connectorFor } from '../../../src/connectors/index.js';
import { listPairs } from '../../../src/engine/two-way/inspect.js';
import { createLogger } from '../../../src/util/logger.js';
import type { DatabaseKind } from '../../helpers/pairings.js';
import { people, spec, world } from '../../helpers/two-way-world.js';

const logger = createLogger({ level: 'silent', pretty: false });

/**
 * Seed 003's synchronisation window with every category at once: each one is non-empty, its count
 * in the run report equals the listing's, and the listing names exactly its records.
 */
describe.each([
  ['postgres', 'postgres'],
  ['mysql', 'postgres'],
] as [DatabaseKind, DatabaseKind][])('the window with all six categories, %s <-> %s', (sourceKind, targetKind) => {
  it('lists synchronised, new, conflict, deleted, deactivated and inactive records with their members', async () => {
    const w = await world(sourceKind, targetKind);
    // No create or archive actions: unmatched records stay new, a vanished partner leaves the pair deleted.
    const s = spec(sourceKind, targetKind, { actions: ['link', 'updateNewerWins'], conflictPolicy: 'Manual' });
    const names = ['Ann Lee', 'Bob Ray', 'Cy Doe', 'Dan Fox', 'Eve Old'];
    const values = (extra: string) => [...names, extra].map((n) => `('${n.split(' ')[0]}', '${n.split(' ')[1]}', '${n.split(' ')[0].toLowerCase()}@x.org', 'Member')`).join(', ');
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ${values('Kim New')}`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES ${values('Tom Berg')}`);
    const first = await w.run(s);
    expect(first.status).toBe('Succeeded');
    expect(people(first).categories).toEqual({ synchronised: 5, new: 2 });

    const id = async (first: string) => (await w.church.rows(`SELECT id FROM people WHERE first_name = '${first}'`))[0].id!;
    const nr = async (first: string) => (await w.accounts.rows(`SELECT nr FROM persons WHERE name_first = '${first}'`))[0].nr!;
    const keys = { ann: [await id('Ann'), await nr('Ann')], bob: [await id('Bob'), await nr('Bob')], cy: [await id('Cy'), await nr('Cy')] };
    const more = { dan: [await id('Dan'), await nr('Dan')], eve: [await id('Eve'), await nr('Eve')], kim: await id('Kim'), tom: await nr('Tom') };

    await w.church.exec(`UPDATE people SET email = 'bob@church.org' WHERE first_name = 'Bob'`);
    await w.accounts.exec(`UPDATE persons SET mail = 'bob@accounts.org' WHERE name_first = 'Bob'`);
    await w.church.exec(`DELETE FROM people WHERE first_name = 'Cy'`);
    // Archived in accounts, then changed in the church: held back as inactive (archiving alone: two-way-archive-only.test.ts).
    await w.accounts.exec(`UPDATE persons SET inactive = ${targetKind === 'postgres' ? 'true' : '1'} WHERE name_first = 'Eve'`);
    await w.church.exec(`UPDATE people SET email = 'eve@church.org' WHERE first_name = 'Eve'`);
    const deactivated = await w.run(s, 'Resolve', { resolutions: [{ entity: 'people', sourceKey: more.dan[0], action: 'Deactivate' }] });
    expect(deactivated.status).toBe('Succeeded');
    const second = await w.run(s);
    expect(second.status).toBe('Succeeded');
    const counts = { synchronised: 1, new: 2, conflict: 1, deleted: 1, deactivated: 1, inactive: 1 };
    expect(people(second).categories).toEqual(counts);
    expect(Object.keys(counts).sort()).toEqual([...PAIR_CATEGORIES].sort());

    const connectors = async () => ({ source: (await connectorFor(s, 'source', w.church.url))!, target: (await connectorFor(s, 'target', w.accounts.url))! });
    const members = async (category: (typeof PAIR_CATEGORIES)[number]) =>
      (await listPairs({ flowId: w.flowId, spec: s, connectors: await connectors(), stateUrl: w.stateUrl, category, limit: 100, logger })).map((p) => [
        p.sourceKey,
        p.targetKey,
      ]);
    expect(await members('synchronised')).toEqual([keys.ann]);
    expect(await members('conflict')).toEqual([keys.bob]);
    expect(await members('deleted')).toEqual([keys.cy]);
    expect(await members('deactivated')).toEqual([more.dan]);
    expect(await members('inactive')).toEqual([more.eve]);
    const unpaired = await listNewRecords(w.stateUrl, w.flowId, s, { limit: 100 });
    expect(unpaired.records.map((r) => [r.side, r.key]).sort()).toEqual([['source', more.kim], ['target', more.tom]].sort());
    expect(unpaired.categories.people).toEqual(counts);
  });
});
