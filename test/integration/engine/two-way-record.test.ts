import { beforeEach, describe, expect, it } from 'vitest';
import type { ConflictPolicy } from '../../../src/api/entity.js';
import type { RecordSide } from '../../../src/api/syncjob.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { bookingsEntity, entityOf, peopleEntity, twoWaySpec, twoWayWorld, type TwoWayWorld } from './two-way-fixture.js';

/**
 * Record mode on a TwoWay flow: a person with their bookings (related children). Ann (church 1) and
 * Bob (church 2) are synced by a Full run first; then both systems change, inside and outside Ann's
 * closure, and a Record run for Ann must touch exactly Ann's rows on both sides.
 */
const logger = createLogger({ level: 'silent', pretty: false });
const FLOW = 'test/two-way';

const spec = (conflictPolicy?: ConflictPolicy) =>
  twoWaySpec([
    { ...peopleEntity({ ...(conflictPolicy ? { conflictPolicy } : {}) }), related: [{ entity: 'bookings' }] },
    bookingsEntity(['link', 'createInTarget', 'createInSource', 'updateNewerWins', 'deleteInSource']),
  ]);

let w: TwoWayWorld;
/** Ann's and Bob's keys in the accounts system, as the Full run paired them. */
let annNr: number;
let bobNr: number;

beforeEach(async () => {
  w = await twoWayWorld();
  await w.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'A', 'ann@x.org', 'Member'), ('Bob', 'B', 'bob@x.org', 'Member')`);
  await w.church(
    `INSERT INTO bookings (person_id, amount, booked_on, purpose) VALUES (1, 10, '2026-01-01', 'dues'), (1, 20, '2026-02-01', 'camp'), (2, 30, '2026-01-01', 'dues')`,
  );
  const full = await w.run(spec());
  expect(full.status).toBe('Succeeded');
  const nr = async (first: string) => Number((await w.accounts(`SELECT nr FROM persons WHERE name_first = $1`, [first]))[0].nr);
  annNr = await nr('Ann');
  bobNr = await nr('Bob');
});

const record = (key: string, extra: { side?: RecordSide; dryRun?: boolean; conflictPolicy?: ConflictPolicy } = {}) =>
  runSync({
    flowId: FLOW,
    spec: spec(extra.conflictPolicy),
    mode: 'Record',
    record: { entity: 'people', key, ...(extra.side ? { side: extra.side } : {}) },
    sourceUrl: w.sourceUrl,
    targetUrl: w.targetUrl,
    stateUrl: w.stateUrl,
    logger,
    dryRun: extra.dryRun,
  });

/** Every row of both systems with its modification time: rows a run touched differ or are new. */
async function snapshot(): Promise<Map<string, string>> {
  const rows = [
    ...(await w.church(`SELECT 'church.people/' || id AS id, updated_at::text AS at FROM people`)),
    ...(await w.church(`SELECT 'church.bookings/' || id AS id, updated_at::text AS at FROM bookings`)),
    ...(await w.accounts(`SELECT 'accounts.persons/' || nr AS id, changed_at::text AS at FROM persons`)),
    ...(await w.accounts(`SELECT 'accounts.transactions/' || nr AS id, changed_at::text AS at FROM transactions`)),
  ];
  return new Map(rows.map((r) => [r.id as string, r.at as string]));
}

const touched = (before: Map<string, string>, after: Map<string, string>) =>
  [...after].filter(([id, at]) => before.get(id) !== at).map(([id]) => id).sort();

const pairsAndWatermarks = async () => ({
  pairs: await w.state(`SELECT entity, source_key, target_key, source_hash, target_hash, category FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope ORDER BY entity, source_key`),
  watermarks: await w.state(`SELECT * FROM ferry.watermarks ORDER BY 1, 2`),
});

/** Changes on both sides, inside Ann's closure and outside it. */
async function changeBothSides(): Promise<void> {
  await w.church(`UPDATE people SET email = 'ann@new.org' WHERE id = 1`);
  await w.church(`UPDATE people SET email = 'bob@new.org' WHERE id = 2`);
  await w.church(`INSERT INTO bookings (person_id, amount, booked_on, purpose) VALUES (1, 40, '2026-03-01', 'retreat'), (2, 50, '2026-03-01', 'retreat')`);
  await w.accounts(`INSERT INTO transactions (person_nr, amount, value_date, text) VALUES ($1, 60, '2026-04-01', 'gift'), ($2, 70, '2026-04-01', 'gift')`, [
    annNr,
    bobNr,
  ]);
}

describe('Record mode on a TwoWay flow', () => {
  it('syncs exactly the record’s closure on both sides, both ways, and leaves the watermarks alone', async () => {
    await changeBothSides();
    const before = await snapshot();
    const watermarks = (await pairsAndWatermarks()).watermarks;

    const report = await record('1');
    expect(report.status).toBe('Succeeded');
    expect(report.subject).toBe('people/1');
    expect(report.watermarksAfter).toEqual(report.watermarksBefore);
    expect((await pairsAndWatermarks()).watermarks).toEqual(watermarks);

    // Ann's new e-mail went to accounts; her new church booking was exported, and the gift entered
    // for her in accounts was imported (it is in her partner's closure). Bob's changes wait.
    const after = await snapshot();
    const annGift = (await w.church(`SELECT id FROM bookings WHERE purpose = 'gift'`)).map((r) => Number(r.id));
    const annRetreat = (await w.accounts(`SELECT nr FROM transactions WHERE text = 'retreat'`)).map((r) => Number(r.nr));
    expect(annGift).toHaveLength(1);
    expect(annRetreat).toHaveLength(1);
    expect(touched(before, after)).toEqual([`accounts.persons/${annNr}`, `accounts.transactions/${annRetreat[0]}`, `church.bookings/${annGift[0]}`].sort());
    expect((await w.accounts(`SELECT mail FROM persons WHERE nr = $1`, [annNr]))[0].mail).toBe('ann@new.org');
    expect((await w.accounts(`SELECT mail FROM persons WHERE nr = $1`, [bobNr]))[0].mail).toBe('bob@x.org');
    expect(await w.church(`SELECT person_id, amount::text FROM bookings WHERE id = $1`, [annGift[0]])).toEqual([{ person_id: 1, amount: '60.00' }]);
    expect(await w.accounts(`SELECT person_nr, amount::text FROM transactions WHERE nr = $1`, [annRetreat[0]])).toEqual([{ person_nr: annNr, amount: '40.00' }]);

    expect(entityOf(report)).toMatchObject({ updated: 1, unchanged: 0 });
    expect(entityOf(report, 'bookings').twoWay).toMatchObject({ createdInSource: 1, createdInTarget: 1 });
    expect(entityOf(report, 'bookings')).toMatchObject({ created: 2, unchanged: 2 });

    // A Full run afterwards finds exactly Bob's changes left.
    const full = await w.run(spec());
    expect(entityOf(full)).toMatchObject({ updated: 1 });
    expect(entityOf(full, 'bookings')).toMatchObject({ created: 2 });
  });

  it('starts from the target side with side Target, and imports a record only the target has', async () => {
    await w.accounts(`INSERT INTO persons (name_first, name_last, mail) VALUES ('Cy', 'C', 'cy@x.org')`);
    const cyNr = Number((await w.accounts(`SELECT nr FROM persons WHERE name_first = 'Cy'`))[0].nr);
    await w.accounts(`INSERT INTO transactions (person_nr, amount, value_date, text) VALUES ($1, 80, '2026-05-01', 'dues'), ($2, 90, '2026-05-01', 'dues')`, [
      cyNr,
      bobNr,
    ]);
    const before = await snapshot();

    const report = await record(String(cyNr), { side: 'Target' });
    expect(report.status).toBe('Succeeded');
    expect(report.subject).toBe(`people/${cyNr} (target)`);
    const cy = await w.church(`SELECT id FROM people WHERE first_name = 'Cy'`);
    expect(cy).toHaveLength(1);
    const cyBookings = await w.church(`SELECT id, amount::text FROM bookings WHERE person_id = $1`, [cy[0].id]);
    expect(cyBookings).toEqual([{ id: expect.any(Number), amount: '80.00' }]);
    expect(touched(before, await snapshot())).toEqual([`church.bookings/${cyBookings[0].id}`, `church.people/${cy[0].id}`].sort());
    expect(entityOf(report).twoWay).toMatchObject({ createdInSource: 1 });
  });

  it('fails with exit code 2 for a target record that does not exist', async () => {
    const failed = await record('999999', { side: 'Target' }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect((failed as RunFailedError).exitCode).toBe(2);
    expect((failed as RunFailedError).report.error).toMatch(/not found in the target/);
  });

  it('leaves a Manual conflict inside the closure untouched and counts it, while the rest of the closure syncs', async () => {
    await w.church(`UPDATE people SET email = 'ann@church.org' WHERE id IN (1, 2)`);
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org' WHERE nr IN ($1, $2)`, [annNr, bobNr]);
    await w.church(`INSERT INTO bookings (person_id, amount, booked_on, purpose) VALUES (1, 40, '2026-03-01', 'retreat')`);
    const before = await snapshot();

    const report = await record('1', { conflictPolicy: 'Manual' });
    expect(report.status).toBe('Succeeded');
    // Only Ann's conflict is seen: Bob's is outside the closure.
    expect(entityOf(report).twoWay).toMatchObject({ conflicts: 1, updatedSource: 0, updatedTarget: 0 });
    expect(entityOf(report)).toMatchObject({ updated: 0 });
    expect(await w.church(`SELECT email FROM people WHERE id = 1`)).toEqual([{ email: 'ann@church.org' }]);
    expect(await w.accounts(`SELECT mail FROM persons WHERE nr = $1`, [annNr])).toEqual([{ mail: 'ann@accounts.org' }]);
    const retreat = (await w.accounts(`SELECT nr FROM transactions WHERE text = 'retreat'`)).map((r) => Number(r.nr));
    expect(touched(before, await snapshot())).toEqual([`accounts.transactions/${retreat[0]}`]);
    expect(await w.state(`SELECT source_key, category FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people' AND category = 'conflict'`)).toEqual([
      { source_key: expect.any(String), category: 'conflict' },
    ]);
  });

  it('applies a deletion in the other system to the record’s children only (deleteInSource)', async () => {
    await w.accounts(`DELETE FROM transactions WHERE amount IN (20, 30)`);
    const report = await record('1');
    expect(entityOf(report, 'bookings').twoWay).toMatchObject({ deletedSource: 1 });
    // Ann's camp booking followed its deleted transaction; Bob's dues (outside the closure) wait.
    expect((await w.church(`SELECT amount::text FROM bookings ORDER BY id`)).map((r) => r.amount)).toEqual(['10.00', '30.00']);
  });

  it('writes nothing on a dry run, yet reports what it would do', async () => {
    await changeBothSides();
    const before = await snapshot();
    const state = await pairsAndWatermarks();

    const report = await record('1', { dryRun: true });
    expect(report.status).toBe('Succeeded');
    expect(report.dryRun).toBe(true);
    expect(entityOf(report)).toMatchObject({ updated: 1 });
    expect(entityOf(report, 'bookings').twoWay).toMatchObject({ createdInSource: 1, createdInTarget: 1 });
    expect(await snapshot()).toEqual(before);
    expect(await pairsAndWatermarks()).toEqual(state);
  });
});
