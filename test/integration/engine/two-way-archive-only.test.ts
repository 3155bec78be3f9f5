import { describe, expect, it } from 'vitest';
import { connectorFor } from '../../../src/connectors/index.js';
import { listPairs } from '../../../src/engine/two-way/inspect.js';
import { createLogger } from '../../../src/util/logger.js';
import type { DatabaseKind } from '../../helpers/pairings.js';
import { people, spec, world, writes } from '../../helpers/two-way-world.js';

const logger = createLogger({ level: 'silent', pretty: false });

/**
 * Seed 003: archiving a record is a change of its pair's category even when no synchronised field
 * changed. A Full run (which compares hashes) and an Incremental run (which reads moved rows) both
 * move the pair to inactive and back, and reactivating syncs the change held back meanwhile
 * instead of letting the reactivated side's untouched values win by their newer modification time.
 */
describe.each([
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
] as [DatabaseKind, DatabaseKind][])('archiving alone, %s <-> %s', (sourceKind, targetKind) => {
  it('moves the pair to inactive and back, in Full and Incremental runs', async () => {
    const w = await world(sourceKind, targetKind);
    const s = spec(sourceKind, targetKind, { actions: ['link', 'updateNewerWins'] });
    const flag = (kind: DatabaseKind, on: boolean) => (kind === 'postgres' ? String(on) : on ? '1' : '0');
    await w.church.exec(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@x.org', 'Member'), ('Eve', 'Old', 'eve@x.org', 'Member')`);
    await w.accounts.exec(`INSERT INTO persons (name_first, name_last, mail, category) VALUES ('Ann', 'Lee', 'ann@x.org', 'Member'), ('Eve', 'Old', 'eve@x.org', 'Member')`);
    expect(people(await w.run(s)).categories).toEqual({ synchronised: 2 });
    const members = async (category: 'inactive' | 'synchronised') => {
      const connectors = { source: (await connectorFor(s, 'source', w.church.url))!, target: (await connectorFor(s, 'target', w.accounts.url))! };
      const pairs = await listPairs({ flowId: w.flowId, spec: s, connectors, stateUrl: w.stateUrl, category, limit: 100, logger });
      return pairs.map((p) => p.sourceKey);
    };
    const eve = (await w.church.rows(`SELECT id FROM people WHERE first_name = 'Eve'`))[0].id!;
    const ann = (await w.church.rows(`SELECT id FROM people WHERE first_name = 'Ann'`))[0].id!;

    // Full: only the archive column of Eve's accounts row changes.
    await w.accounts.exec(`UPDATE persons SET inactive = ${flag(targetKind, true)} WHERE name_first = 'Eve'`);
    const archived = await w.run(s);
    expect(people(archived).categories).toEqual({ synchronised: 1, inactive: 1 });
    expect(writes(archived)).toBe(0);
    expect(await members('inactive')).toEqual([eve]);

    // Held back while inactive, then reactivated on its side (a newer modification time there, same values).
    await w.church.exec(`UPDATE people SET email = 'eve@church.org' WHERE first_name = 'Eve'`);
    const held = await w.run(s, 'Incremental');
    expect(people(held).twoWay).toMatchObject({ heldInactive: 1 });
    await w.accounts.exec(`UPDATE persons SET inactive = ${flag(targetKind, false)} WHERE name_first = 'Eve'`);
    const reactivated = await w.run(s);
    expect(people(reactivated).categories).toEqual({ synchronised: 2 });
    expect((await w.accounts.rows(`SELECT mail FROM persons WHERE name_first = 'Eve'`))[0].mail).toBe('eve@church.org');
    expect((await w.church.rows(`SELECT email FROM people WHERE first_name = 'Eve'`))[0].email).toBe('eve@church.org');

    // Incremental: only the archive column of Ann's church row changes (its modification time moves).
    await w.church.exec(`UPDATE people SET archived = ${flag(sourceKind, true)} WHERE first_name = 'Ann'`);
    const incremental = await w.run(s, 'Incremental');
    expect(people(incremental).categories).toEqual({ synchronised: 1, inactive: 1 });
    expect(writes(incremental)).toBe(0);
    expect(await members('inactive')).toEqual([ann]);
    // A further Full finds nothing to do and keeps the categories.
    const again = await w.run(s);
    expect(people(again).categories).toEqual({ synchronised: 1, inactive: 1 });
    expect(writes(again)).toBe(0);
    await w.church.exec(`UPDATE people SET archived = ${flag(sourceKind, false)} WHERE first_name = 'Ann'`);
    expect(people(await w.run(s, 'Incremental')).categories).toEqual({ synchronised: 2 });
  });
});
