import { beforeEach, describe, expect, it } from 'vitest';
import { RunFailedError, type RunRequest } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import type { RunReport } from '../../../src/engine/report.js';
import { createLogger } from '../../../src/util/logger.js';
import { withClient } from '../../helpers/databases.js';
import { closureDatabases, closureFlowSpec, pairedSourceKeys } from '../../helpers/closure-flow.js';

const logger = createLogger({ level: 'silent', pretty: false });
const FLOW = 'test/closure';

let dbs: Awaited<ReturnType<typeof closureDatabases>>;
let base: Omit<RunRequest, 'mode'>;

beforeEach(async () => {
  dbs = await closureDatabases();
  base = { flowId: FLOW, spec: closureFlowSpec(), sourceUrl: dbs.sourceUrl, targetUrl: dbs.targetUrl, stateUrl: dbs.stateUrl, logger };
});

const sql = (url: string, text: string, values: unknown[] = []) => withClient(url, async (c) => (await c.query(text, values)).rows);
const record = (entity: string, key: string) => runSync({ ...base, mode: 'Record', record: { entity, key } });
const counts = (report: RunReport) => Object.fromEntries(report.entities.map((e) => [e.name, e.created + e.updated + e.linked]));

/** Every target table's row count: what a Record run into an empty target wrote. */
async function targetCounts() {
  const tables = ['cities', 'levels', 'firms', 'people', 'interests', 'events', 'sessions', 'related_events', 'registrations', 'event_balances', 'product_balances'];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await sql(dbs.targetUrl, `SELECT count(*) AS n FROM ${table}`))[0].n);
  return out;
}

describe('Record mode', () => {
  it('syncs a person with exactly their required rows and related rows, and the related rows’ own parents', async () => {
    const report = await record('people', '10');
    expect(report.status).toBe('Succeeded');
    expect(report.subject).toBe('people/10');
    // Ann; her city, firm and the firm's city; her interests, registration, balances and invoice.
    // Balance 702 pays Bob's registration 501, which needs Bob (and his city) and event 101 as parents,
    // but not Bob's own interests, balances or invoices, nor the events' sessions.
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({
      cities: ['1', '2', '3'],
      event_balances: ['700', '702'],
      events: ['100', '101'],
      firms: ['1'],
      interests: ['10,golf', '10,tax'],
      levels: ['1', '2'],
      people: ['10', '11'],
      product_balances: ['800'],
      registrations: ['500', '501'],
    });
    expect(await targetCounts()).toEqual({
      cities: 3, levels: 2, firms: 1, people: 2, interests: 2, events: 2, sessions: 0, related_events: 0, registrations: 2, event_balances: 2, product_balances: 1,
    });
    // Reported per entity, in dependency order, and only the entities it touched.
    expect(counts(report)).toEqual({ cities: 3, levels: 2, firms: 1, people: 2, interests: 2, events: 2, registrations: 2, event_balances: 2, product_balances: 1 });
    expect(report.totals.rejected).toBe(0);
    expect(report.entities.find((e) => e.name === 'people')!.notes).toEqual([expect.stringMatching(/^closure of 17 rows in 9 tables, read in [4-6] round trips$/)]);
    // Foreign keys point at the website's own ids of the same records.
    expect(await sql(dbs.targetUrl, `SELECT p.name, f.name AS firm, c.name AS city FROM people p JOIN firms f ON f.id = p.firm_id JOIN cities c ON c.id = p.city_id ORDER BY 1`)).toEqual([
      { name: 'Ann', firm: 'Acme', city: 'Oslo' },
      { name: 'Bob', firm: 'Acme', city: 'Rome' },
    ]);
  });

  it('syncs a firm with its employees (and their related rows) and its firm-only invoices', async () => {
    await record('firms', '1');
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({
      cities: ['1', '2', '3'],
      event_balances: ['700', '701', '702'],
      events: ['100', '101'],
      firms: ['1'],
      interests: ['10,golf', '10,tax', '11,audit'],
      levels: ['1', '2'],
      people: ['10', '11'],
      product_balances: ['800', '801'],
      registrations: ['500', '501'],
    });
  });

  it('syncs an event with its related events, and their related items one level deep', async () => {
    await record('events', '100');
    // Event 101 (linked from 100) comes with its sessions, links and registrations; event 102, linked
    // from 101, only as a required parent: without its session 1003 or its link to 103.
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({
      cities: ['1', '2', '3'],
      event_balances: ['700', '701', '702'],
      events: ['100', '101', '102'],
      firms: ['1'],
      levels: ['1', '2'],
      people: ['10', '11'],
      registrations: ['500', '501'],
      related_events: ['100,101', '101,102'],
      sessions: ['1000', '1001', '1002'],
    });
  });

  it('updates only the closure after a Full sync, and leaves the watermarks where they were', async () => {
    const full = await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `UPDATE people SET name = name || '!', updated_at = '2026-02-01 10:00:00+00' WHERE id IN (10, 12)`);
    await sql(dbs.sourceUrl, `UPDATE interests SET code = 'chess', updated_at = '2026-02-01 10:00:00+00' WHERE person_id = 10 AND code = 'golf'`);
    const versionsBefore = await sql(dbs.targetUrl, `SELECT id, name, xmin::text FROM people ORDER BY id`);

    const report = await record('people', '10');
    expect(report.watermarksAfter).toEqual(full.watermarksAfter);
    expect(report.watermarksBefore).toEqual(full.watermarksAfter);
    expect(report.entities.find((e) => e.name === 'people')).toMatchObject({ read: 2, updated: 1, unchanged: 1 });
    expect(report.entities.find((e) => e.name === 'interests')).toMatchObject({ read: 2, created: 1, unchanged: 1 });
    const versionsAfter = await sql(dbs.targetUrl, `SELECT id, name, xmin::text FROM people ORDER BY id`);
    // Only Ann's row was written; Cy changed too but is outside the closure.
    const changed = versionsAfter.filter((row, i) => row.xmin !== versionsBefore[i].xmin).map((r) => r.name);
    expect(changed).toEqual(['Ann!']);

    // The watermark did not move, so the next Incremental run still sees both changes (Ann's now unchanged).
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.entities.find((e) => e.name === 'people')).toMatchObject({ read: 2, updated: 1, unchanged: 1 });
  });

  it('fails with a clear error for a key that does not exist, and writes nothing', async () => {
    const error = await record('people', '999').catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('record people/999 not found in the source: nothing was synced');
    expect(Object.values(await targetCounts()).every((n) => n === 0)).toBe(true);
  });

  it('rejects a malformed key or an unknown entity with a clear error', async () => {
    await expect(record('people', 'ann')).rejects.toThrow('record key "ann": id of people is a whole number, got "ann"');
    await expect(record('interests', '10')).rejects.toThrow('record key "10" of interests needs 2 parts (person_id, code), separated by commas');
    await expect(record('staff', '1')).rejects.toThrow('unknown entity "staff"');
    // A composite key given as its parts.
    await record('interests', '10,golf');
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({ cities: ['1', '2'], firms: ['1'], interests: ['10,golf'], people: ['10'] });
  });

  it('writes nothing in a dry run but reports what it would do', async () => {
    const report = await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: '10' }, dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(counts(report)).toMatchObject({ people: 2, interests: 2, registrations: 2 });
    expect(Object.values(await targetCounts()).every((n) => n === 0)).toBe(true);
    expect(await pairedSourceKeys(dbs.stateUrl, FLOW)).toEqual({});
  });

  it('rejects a closure row whose parent row is missing from the source, with the reason, and syncs the rest', async () => {
    await sql(dbs.sourceUrl, `UPDATE product_balances SET firm_id = 9 WHERE id = 800`);
    const report = await record('people', '10');
    expect(report.status).toBe('Succeeded');
    expect(report.rejectedSamples).toEqual([
      { entity: 'product_balances', key: '800', reason: 'firm_id = 9: no synced firms record with that key (missing parent; no such firms row in the source either)' },
    ]);
    expect((await pairedSourceKeys(dbs.stateUrl, FLOW)).registrations).toEqual(['500', '501']);
  });
});
