import { describe, expect, it } from 'vitest';
import { entityOf, peopleEntity, twoWaySpec, twoWayWorld } from './two-way-fixture.js';

/** Seed 001: a change must not bounce back, and optionally the reverse direction is blocked for a while. */
describe('loop protection', () => {
  const ANN = `INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'Lee', 'ann@x.org', 'Member')`;

  it('echo suppression: what Ferry wrote to B comes back as a change on B but is never sent back to A', async () => {
    const w = await twoWayWorld();
    await w.church(ANN);
    const spec = twoWaySpec([peopleEntity()]);
    await w.run(spec);
    await w.run(spec, 'Incremental'); // settles the watermarks past Ferry's own creates

    await w.church(`UPDATE people SET email = 'ann@new.org'`);
    const forward = await w.run(spec, 'Incremental');
    // The write bumped accounts' changed_at (its trigger), so the target pass of the same run reads
    // the row back: an echo, recognised by its hash and not sent back.
    expect(entityOf(forward).twoWay).toMatchObject({ updatedTarget: 1, updatedSource: 0, echoes: 1 });
    const churchVersion = await w.church(`SELECT xmin::text, updated_at FROM people`);
    const quiet = await w.run(spec, 'Incremental');
    expect(entityOf(quiet).twoWay).toMatchObject({ updatedSource: 0, updatedTarget: 0 });
    expect(await w.church(`SELECT xmin::text, updated_at FROM people`)).toEqual(churchVersion);

    // Touching a row without changing its mapped data is not a change either.
    await w.accounts(`UPDATE persons SET changed_at = now()`);
    const touched = await w.run(spec, 'Incremental');
    expect(entityOf(touched).twoWay).toMatchObject({ echoes: 1, updatedSource: 0 });
    expect(await w.church(`SELECT xmin::text, updated_at FROM people`)).toEqual(churchVersion);
  });

  it('window: after A -> B, a real edit on B is held back for the window, counted, and sent back once it has passed', async () => {
    const w = await twoWayWorld();
    await w.church(ANN);
    const spec = twoWaySpec([peopleEntity()], { loopProtection: { window: '1h' } });
    await w.run(spec);
    await w.run(spec, 'Incremental');

    await w.church(`UPDATE people SET email = 'ann@church.org'`);
    await w.run(spec, 'Incremental');
    expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'ann@church.org' }]);

    // Further changes in the same direction still flow.
    await w.church(`UPDATE people SET last_name = 'Lee-Smith'`);
    await w.run(spec, 'Incremental');
    expect(await w.accounts(`SELECT name_last FROM persons`)).toEqual([{ name_last: 'Lee-Smith' }]);

    // A real edit on B inside the window is held back (Incremental and Full alike).
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org'`);
    const held = await w.run(spec, 'Incremental');
    expect(entityOf(held).twoWay).toMatchObject({ blocked: 1, updatedSource: 0 });
    expect(entityOf(await w.run(spec)).twoWay).toMatchObject({ blocked: 1, updatedSource: 0 });
    expect(await w.church(`SELECT email FROM people`)).toEqual([{ email: 'ann@church.org' }]);

    // An hour later (the pair's clock moved back), the held change goes through.
    await w.state(`UPDATE ferry.pairs SET last_synced_at = last_synced_at - interval '61 minutes', held_until = held_until - interval '61 minutes'`);
    const released = await w.run(spec, 'Incremental');
    expect(entityOf(released).twoWay).toMatchObject({ released: 1, updatedSource: 1, blocked: 0 });
    expect(await w.church(`SELECT email FROM people`)).toEqual([{ email: 'ann@accounts.org' }]);

    // Now the window runs the other way: a church edit is held back.
    await w.church(`UPDATE people SET email = 'ann@church2.org'`);
    expect(entityOf(await w.run(spec, 'Incremental')).twoWay).toMatchObject({ blocked: 1, updatedTarget: 0 });
  });

  it('without a window, an edit on B right after A -> B flows back at once', async () => {
    const w = await twoWayWorld();
    await w.church(ANN);
    const spec = twoWaySpec([peopleEntity()]);
    await w.run(spec);
    await w.church(`UPDATE people SET email = 'ann@church.org'`);
    await w.run(spec, 'Incremental');
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org'`);
    const report = await w.run(spec, 'Incremental');
    expect(entityOf(report).twoWay).toMatchObject({ blocked: 0, updatedSource: 1 });
  });
});
