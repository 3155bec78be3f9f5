import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { listNewRecords } from '../../../src/cli/unpaired.js';
import { RunStore } from '../../../src/controller/run-store.js';
import { pairs as pairsResource } from '../../../src/data-api/resources.js';
import { sensitivityOf } from '../../../src/data-api/sensitivity.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import type { DatabaseKind } from '../../helpers/pairings.js';
import { people, spec, world } from '../../helpers/two-way-world.js';

/**
 * Seed 003's synchronisation window: records without a partner are a list (category `new`) kept by
 * the runs, with suggested partners; every report, `ferry pairs` and SyncFlow.status count the same.
 */
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const pool of pools) await pool.end();
});

describe.each([
  ['postgres', 'postgres'],
  ['mysql', 'mysql'],
] as [DatabaseKind, DatabaseKind][])('the synchronisation window, %s <-> %s', (sourceKind, targetKind) => {
  it('lists unpaired records with ranked partner suggestions, counts them in every mode, and forgets them once linked or gone', async () => {
    const w = await world(sourceKind, targetKind);
    // No create actions: records without a match stay on their side, waiting to be partnered up.
    const s: SyncFlowSpec = spec(sourceKind, targetKind, { actions: ['link', 'updateNewerWins'] });
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES
      ('Eve', 'Old', 'eve@church.org', 'Member'), ('John', 'Smith', 'john@church.org', 'Member'), ('Ann', 'Lee', 'ann@church.org', 'Member')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES
      ('Eve', 'Old', 'eve@church.org', 'Member'), ('Jon', 'Smith', 'jon@acc.org', 'Member'), ('John', 'Smyth', 'js@acc.org', 'Member'), ('Tom', 'Berg', 'tom@acc.org', 'Friend')`);
    const ids = Object.fromEntries((await w.church.rows(`SELECT id, first_name FROM people`)).map((r) => [r.first_name, r.id!]));
    const nrs = Object.fromEntries((await w.accounts.rows(`SELECT nr, name_first, name_last FROM persons`)).map((r) => [`${r.name_first} ${r.name_last}`, r.nr!]));

    const full = await w.run(s);
    expect(full.status).toBe('Succeeded');
    expect(people(full).categories).toEqual({ synchronised: 1, new: 5 });

    const page = await listNewRecords(w.stateUrl, w.flowId, s, { limit: 10 });
    expect(page.records.map((r) => `${r.side} ${r.key}`).sort()).toEqual(
      [`source ${ids.John}`, `source ${ids.Ann}`, `target ${nrs['Jon Smith']}`, `target ${nrs['John Smyth']}`, `target ${nrs['Tom Berg']}`].sort(),
    );
    const john = page.records.find((r) => r.side === 'source' && r.key === ids.John)!;
    // Jon Smith agrees on the last name, John Smyth on the first; Tom Berg on nothing.
    expect(john.suggestions).toEqual(
      expect.arrayContaining([
        { key: nrs['Jon Smith'], agreeing: [{ source: 'last_name', target: 'name_last' }] },
        { key: nrs['John Smyth'], agreeing: [{ source: 'first_name', target: 'name_first' }] },
      ]),
    );
    expect(john.suggestions).toHaveLength(2);
    expect(page.records.find((r) => r.key === ids.Ann)!.suggestions).toEqual([]);
    expect(page.categories.people).toEqual({ synchronised: 1, new: 5 });

    // Paged: two at a time, no record twice, none left out.
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const next = await listNewRecords(w.stateUrl, w.flowId, s, { limit: 2, continue: token });
      seen.push(...next.records.map((r) => `${r.side} ${r.key}`));
      token = next.continue;
    } while (token);
    expect(seen.sort()).toEqual(page.records.map((r) => `${r.side} ${r.key}`).sort());

    // An Incremental run that touches one new record still counts every category of the flow.
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Kim', 'Berg', 'kim@church.org', 'Member')`);
    const incremental = await w.run(s, 'Incremental');
    expect(people(incremental).categories).toEqual({ synchronised: 1, new: 6 });
    const kim = (await listNewRecords(w.stateUrl, w.flowId, s, { limit: 10 })).records.find((r) => r.suggestions.some((p) => p.key === nrs['Tom Berg']));
    expect(kim?.suggestions).toEqual([{ key: nrs['Tom Berg'], agreeing: [{ source: 'last_name', target: 'name_last' }] }]);

    // Linking a suggestion by hand takes both records off the list; the report, the listing and the status agree.
    const linked = await w.run(s, 'Resolve', { resolutions: [{ entity: 'people', sourceKey: ids.John, targetKey: nrs['Jon Smith'], action: 'Link' }] });
    expect(linked.status).toBe('Succeeded');
    expect(people(linked).categories).toEqual({ synchronised: 2, new: 4 });
    expect((await listNewRecords(w.stateUrl, w.flowId, s, { limit: 10 })).categories.people).toEqual({ synchronised: 2, new: 4 });
    const runs = new RunStore(w.stateUrl);
    try {
      expect(await runs.categories(w.flowId)).toEqual({ synchronised: 2, new: 4 });
    } finally {
      await runs.close();
    }

    // The data API's pairs resource lists the same records for category=new, with the field names.
    const pool = new pg.Pool({ connectionString: w.stateUrl, max: 1 });
    pools.push(pool);
    const [namespace, flowName] = w.flowId.split('/');
    const access = { unmasked: async () => false, sensitivity: async () => sensitivityOf({ spec: s }) };
    const listed = await pairsResource.list(pool, { namespace, filters: { flow: flowName, category: 'new' }, limit: 10, access });
    expect(listed.items).toHaveLength(4);
    const tom = listed.items.find((p) => p.targetKey === nrs['Tom Berg'])!;
    expect(tom).toMatchObject({ category: 'new', sourceKey: '', unpaired: { side: 'target', reason: 'unmatched', inScope: true } });
    expect(tom.unpaired!.suggestions).toEqual([{ key: ids.Kim ?? expect.any(String), agreeing: [{ source: 'last_name', target: 'name_last' }] }]);
    const firstPage = await pairsResource.list(pool, { namespace, filters: { flow: flowName, category: 'new' }, limit: 3, access });
    const secondPage = await pairsResource.list(pool, { namespace, filters: { flow: flowName, category: 'new' }, limit: 3, access, after: firstPage.next });
    expect([...firstPage.items, ...secondPage.items].map((p) => p.metadata.name).sort()).toEqual(listed.items.map((p) => p.metadata.name).sort());

    // A Full run forgets records that vanished from their side.
    await w.accounts.exec(`DELETE FROM persons WHERE name_first = 'Tom'`);
    const after = await w.run(s);
    expect(people(after).categories).toEqual({ synchronised: 2, new: 3 });
  });
});
