import { beforeEach, describe, expect, it } from 'vitest';
import { type RunRequest } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { withClient } from '../../helpers/databases.js';
import { closureDatabases, closureFlowSpec, pairedSourceKeys } from '../../helpers/closure-flow.js';

const logger = createLogger({ level: 'silent', pretty: false });
const FLOW = 'test/closure';
const LATER = '2026-02-01 10:00:00+00';

let dbs: Awaited<ReturnType<typeof closureDatabases>>;
let base: Omit<RunRequest, 'mode'>;

beforeEach(async () => {
  dbs = await closureDatabases();
  base = { flowId: FLOW, spec: closureFlowSpec(), sourceUrl: dbs.sourceUrl, targetUrl: dbs.targetUrl, stateUrl: dbs.stateUrl, logger };
});

const sql = (url: string, text: string, values: unknown[] = []) => withClient(url, async (c) => (await c.query(text, values)).rows);
const scope = (name: string, scopeMode?: 'Full' | 'Incremental') => runSync({ ...base, mode: 'Scope', scope: name, scopeMode });

/** Row versions of every target table: xmin changes on every write, so equal snapshots mean nothing was touched. */
async function targetVersions() {
  const tables = ['cities', 'levels', 'firms', 'people', 'interests', 'events', 'sessions', 'related_events', 'registrations', 'event_balances', 'product_balances'];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = await sql(dbs.targetUrl, `SELECT id, xmin::text AS v FROM ${table} ORDER BY id`);
  return out;
}

describe('Scope mode', () => {
  it('syncs only the scope’s entities and their related entities, without the excluded ones', async () => {
    const report = await scope('events', 'Full');
    expect(report.status).toBe('Succeeded');
    expect(report.subject).toBe('events (Full)');
    expect(report.entities.map((e) => e.name)).toEqual(['levels', 'events', 'sessions', 'related_events']);
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({
      events: ['100', '101', '102', '103'],
      levels: ['1', '2', '3'],
      related_events: ['100,101', '101,102', '102,103', '103,100'],
      sessions: ['1000', '1001', '1002', '1003', '1004'],
    });
    const versions = await targetVersions();
    for (const table of ['cities', 'firms', 'people', 'interests', 'registrations', 'event_balances', 'product_balances']) expect(versions[table]).toEqual([]);
    // Only the scope's watermarks are set.
    expect(Object.keys(report.watermarksAfter).sort()).toEqual(['events', 'levels', 'related_events', 'sessions']);
  });

  it('runs Incremental within the scope by default and touches nothing outside it', async () => {
    const watermarksBefore = (await runSync({ ...base, mode: 'Full' })).watermarksAfter;
    await sql(dbs.sourceUrl, `UPDATE events SET title = 'Summit 2026', updated_at = $1 WHERE id = 100`, [LATER]);
    await sql(dbs.sourceUrl, `UPDATE people SET name = 'Ann B.', updated_at = $1 WHERE id = 10`, [LATER]);
    await sql(dbs.sourceUrl, `UPDATE registrations SET event_id = 102, updated_at = $1 WHERE id = 500`, [LATER]);
    const before = await targetVersions();

    const report = await scope('events');
    expect(report.subject).toBe('events (Incremental)');
    expect(report.entities.find((e) => e.name === 'events')).toMatchObject({ read: 1, updated: 1 });
    const after = await targetVersions();
    const touched = Object.keys(after).filter((table) => JSON.stringify(after[table]) !== JSON.stringify(before[table]));
    expect(touched).toEqual(['events']);
    // Outside the scope, the watermarks stay, so the next Incremental run still picks up Ann and the registration.
    expect(report.watermarksAfter.people).toEqual(watermarksBefore.people);
    expect(report.watermarksAfter.registrations).toEqual(watermarksBefore.registrations);
    expect(report.watermarksAfter.events).not.toEqual(watermarksBefore.events);
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.entities.find((e) => e.name === 'people')).toMatchObject({ updated: 1 });
    expect(incremental.entities.find((e) => e.name === 'registrations')).toMatchObject({ updated: 1 });
    expect(incremental.entities.find((e) => e.name === 'events')).toMatchObject({ read: 0 });
  });

  it('Full within a scope deletes and archives vanished rows of the scope only', async () => {
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `DELETE FROM sessions WHERE id = 1004`);
    await sql(dbs.sourceUrl, `DELETE FROM related_events WHERE event_id = 103`);
    await sql(dbs.sourceUrl, `DELETE FROM related_events WHERE related_event_id = 103`);
    await sql(dbs.sourceUrl, `DELETE FROM event_balances WHERE id = 703`);
    await sql(dbs.sourceUrl, `DELETE FROM product_balances WHERE id IN (802, 803)`);
    await sql(dbs.sourceUrl, `DELETE FROM people WHERE id = 12`);

    const report = await scope('events', 'Full');
    expect(report.entities.find((e) => e.name === 'sessions')).toMatchObject({ deleted: 1 });
    expect(report.entities.find((e) => e.name === 'related_events')).toMatchObject({ deleted: 2 });
    expect(report.totals).toMatchObject({ deleted: 3, archived: 0 });
    expect(await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM people WHERE NOT archived`)).toEqual([{ n: 4 }]);
    expect(await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM event_balances`)).toEqual([{ n: 4 }]);
    expect((await pairedSourceKeys(dbs.stateUrl, FLOW)).people).toEqual(['10', '11', '12', '13']);
  });

  it('rejects rows whose lookups point outside the scope at rows not synced yet, with the reason', async () => {
    const report = await scope('events_with_registrations', 'Full');
    expect(report.entities.map((e) => e.name)).toEqual(['levels', 'events', 'sessions', 'related_events', 'registrations', 'event_balances']);
    const reasons = report.rejectedSamples.filter((r) => r.entity === 'registrations').map((r) => `${r.key}: ${r.reason}`);
    expect(reasons).toEqual([
      '500: person_id = 10: no synced people record with that key (missing parent; people is outside scope "events_with_registrations" and this row has not been synced yet: run a Full, Incremental or Record sync of it first)',
      '501: person_id = 11: no synced people record with that key (missing parent; people is outside scope "events_with_registrations" and this row has not been synced yet: run a Full, Incremental or Record sync of it first)',
      '502: person_id = 12: no synced people record with that key (missing parent; people is outside scope "events_with_registrations" and this row has not been synced yet: run a Full, Incremental or Record sync of it first)',
      '503: person_id = 13: no synced people record with that key (missing parent; people is outside scope "events_with_registrations" and this row has not been synced yet: run a Full, Incremental or Record sync of it first)',
    ]);
    expect(await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM people`)).toEqual([{ n: 0 }]);

    // Once Ann and Bob are synced (a Record run for Ann brings Bob as a parent), their registrations go through.
    await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: '10' } });
    const again = await scope('events_with_registrations', 'Full');
    expect(again.rejectedSamples.filter((r) => r.entity === 'registrations').map((r) => r.key)).toEqual(['502', '503']);
    expect(again.entities.find((e) => e.name === 'registrations')).toMatchObject({ unchanged: 2, rejected: 2 });
    expect((await pairedSourceKeys(dbs.stateUrl, FLOW)).registrations).toEqual(['500', '501']);
  });

  it('names the scopes the flow has when asked for an unknown one', async () => {
    await expect(scope('workshops')).rejects.toThrow('unknown scope "workshops" (the flow defines: events, events_with_registrations)');
  });
});
