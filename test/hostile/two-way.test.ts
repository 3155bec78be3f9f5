import { describe, expect, it } from 'vitest';
import { entityOf, peopleEntity, twoWaySpec, twoWayWorld } from '../integration/engine/two-way-fixture.js';

describe('hostile data in a two-way flow: a cursor far in the future', () => {
  it('a source row dated 9999-12-31 does not freeze either side’s Incremental', async () => {
    const world = await twoWayWorld();
    const spec = twoWaySpec([peopleEntity({ actions: ['link', 'createInTarget', 'createInSource', 'updateTarget', 'updateSource'], match: 'email' })]);
    await world.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'A', 'ann@example.org', 'Member')`);
    await world.church(`INSERT INTO people (first_name, last_name, email, status, updated_at) VALUES ('Zed', 'Z', 'zed@example.org', 'Member', '9999-12-31')`);
    const full = await world.run(spec, 'Full');
    expect(full.status, full.error).toBe('Succeeded');
    expect(entityOf(full).notes.join('\n')).toMatch(/9999-12-31/);

    await world.run(spec, 'Incremental');
    await world.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Bea', 'B', 'bea@example.org', 'Member')`);
    const incremental = await world.run(spec, 'Incremental');
    expect(incremental.status, incremental.error).toBe('Succeeded');
    expect(await world.accounts(`SELECT mail FROM persons WHERE mail = 'bea@example.org'`)).toHaveLength(1);
    expect(entityOf(incremental).notes.join('\n')).toMatch(/zed|9999-12-31/);
  });
});
