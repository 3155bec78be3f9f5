import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { RunFailedError, type RunRequest } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import type { RunReport } from '../../../src/engine/report.js';
import { categoryCounts } from '../../../src/store/two-way-pairs.js';
import { FlowBusyError } from '../../../src/util/errors.js';
import { withClient } from '../../helpers/databases.js';
import { createLogger } from '../../../src/util/logger.js';
import { miniFlowSpec, seededMiniRun, sqlRows, T0, type MiniDatabases } from '../../helpers/mini-flow.js';

const logger = createLogger({ level: 'silent', pretty: false });

let dbs: MiniDatabases;
let base: Omit<RunRequest, 'mode'>;

beforeEach(async () => {
  ({ dbs, base } = await seededMiniRun('test/mini', logger));
});

const sql = sqlRows;
const entity = (report: RunReport, name: string) => report.entities.find((e) => e.name === name)!;
const written = (report: RunReport) => report.totals.created + report.totals.updated + report.totals.archived + report.totals.deleted;

/** The target as (source-side) facts: people with their firm's title, interests with their person's e-mail. */
async function targetFacts(url = dbs.targetUrl) {
  return {
    firms: await sql(url, `SELECT title, archived FROM firms ORDER BY title`),
    people: await sql(url, `SELECT p.full_name, p.email, p.status, f.title AS firm, p.archived FROM people p LEFT JOIN firms f ON f.id = p.firm_id ORDER BY p.email`),
    interests: await sql(url, `SELECT p.email, i.code FROM person_interests i JOIN people p ON p.id = i.person_id ORDER BY 1, 2`),
  };
}

describe('one-way Full sync', () => {
  it('creates every row in an empty target, with foreign keys pointing at the target’s own ids', async () => {
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'firms')).toMatchObject({ read: 3, created: 3, rejected: 0 });
    expect(entity(report, 'people')).toMatchObject({ read: 7, created: 7, rejected: 0 });
    expect(entity(report, 'interests')).toMatchObject({ read: 5, created: 5, rejected: 0 });

    const people = await sql(dbs.targetUrl, `SELECT p.id, p.email, p.firm_id, f.title FROM people p LEFT JOIN firms f ON f.id = p.firm_id ORDER BY p.email`);
    // Target ids come from the website's own sequences (5000+, 1000+), never the source ids.
    expect(people.every((p) => Number(p.id) >= 5000)).toBe(true);
    expect(people.find((p) => p.email === 'ann@example.org')).toMatchObject({ title: 'Acme' });
    expect(people.find((p) => p.email === 'bob@example.org')).toMatchObject({ title: 'Globex' });
    expect(people.find((p) => p.email === 'cy@example.org')).toMatchObject({ firm_id: null });
    const firmIds = (await sql(dbs.targetUrl, 'SELECT id FROM firms')).map((r) => Number(r.id));
    expect(firmIds.every((id) => id >= 1000)).toBe(true);
    expect((await targetFacts()).interests).toEqual([
      { email: 'ann@example.org', code: 'golf' },
      { email: 'ann@example.org', code: 'tax' },
      { email: 'bob@example.org', code: 'audit' },
      { email: 'di@example.org', code: 'tax' },
      { email: 'gus@example.org', code: 'golf' },
    ]);
  });

  it('writes nothing on a second Full sync without changes', async () => {
    await runSync({ ...base, mode: 'Full' });
    const versionsBefore = await sql(dbs.targetUrl, `SELECT id, xmin::text FROM people ORDER BY id`);
    const second = await runSync({ ...base, mode: 'Full' });
    expect(written(second)).toBe(0);
    expect(second.totals.unchanged).toBe(15);
    // xmin changes on every row write, so identical xmins prove no row was touched.
    expect(await sql(dbs.targetUrl, `SELECT id, xmin::text FROM people ORDER BY id`)).toEqual(versionsBefore);
  });

  it('propagates updates, archives vanished firms and deletes vanished people and interests', async () => {
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `UPDATE firms SET name = 'Acme Corp', updated_at = now() WHERE id = 1`);
    await sql(dbs.sourceUrl, `UPDATE people SET firm_id = NULL, updated_at = now() WHERE id = 13`);
    await sql(dbs.sourceUrl, `UPDATE people SET firm_id = 2, updated_at = now() WHERE id = 16`);
    await sql(dbs.sourceUrl, `DELETE FROM firms WHERE id = 3`);
    await sql(dbs.sourceUrl, `DELETE FROM interests WHERE person_id = 11`);
    await sql(dbs.sourceUrl, `DELETE FROM people WHERE id = 11`);

    const report = await runSync({ ...base, mode: 'Full' });
    expect(entity(report, 'firms')).toMatchObject({ updated: 1, archived: 1 });
    expect(entity(report, 'people')).toMatchObject({ updated: 2, deleted: 1 });
    expect(entity(report, 'interests')).toMatchObject({ deleted: 1 });

    const facts = await targetFacts();
    expect(facts.firms).toEqual([
      { title: 'Acme Corp', archived: false },
      { title: 'Globex', archived: false },
      { title: 'Initech', archived: true },
    ]);
    expect(facts.people.map((p) => p.email)).not.toContain('bob@example.org');
    expect(facts.interests.map((i) => i.email)).not.toContain('bob@example.org');
    expect(facts.people.find((p) => p.email === 'gus@example.org')).toMatchObject({ firm: 'Globex' });

    const third = await runSync({ ...base, mode: 'Full' });
    expect(written(third)).toBe(0);
  });

  it('rewrites target rows that were changed or removed behind Ferry’s back', async () => {
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.targetUrl, `UPDATE people SET status = 'Tampered' WHERE email = 'ann@example.org'`);
    await sql(dbs.targetUrl, `DELETE FROM person_interests WHERE code = 'audit'`);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(entity(report, 'people').updated).toBe(1);
    expect(entity(report, 'interests').updated).toBe(1);
    const facts = await targetFacts();
    expect(facts.people.find((p) => p.email === 'ann@example.org')).toMatchObject({ status: 'Member' });
    expect(facts.interests).toContainEqual({ email: 'bob@example.org', code: 'audit' });
  });

  it('links existing target rows by match keys instead of duplicating them', async () => {
    await sql(dbs.targetUrl, `INSERT INTO people (full_name, email, status) VALUES ('Ann Old', 'ANN@example.org', 'Friend')`);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(entity(report, 'people')).toMatchObject({ created: 6, linked: 1 });
    const anns = await sql(dbs.targetUrl, `SELECT full_name, status FROM people WHERE lower(email) = 'ann@example.org'`);
    expect(anns).toEqual([{ full_name: 'Ann', status: 'Member' }]);
  });

  it('re-sets the watermark to the newest source row', async () => {
    await sql(dbs.sourceUrl, `UPDATE people SET updated_at = '2026-03-01 08:00:00.123456+00' WHERE id = 12`);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.watermarksAfter.people).toEqual({ cursor: '2026-03-01 08:00:00.123456+00', key: ['12'] });
    expect(report.watermarksAfter.firms.cursor).toBe(T0);
  });
});

describe('bad rows and bad configuration', () => {
  it('rejects rows that do not fit or whose parent is missing, with a reason, and syncs the rest', async () => {
    await sql(dbs.sourceUrl, `INSERT INTO people VALUES (20, 'A name far too long for the website', 'long@example.org', 'Member', 1, $1)`, [T0]);
    await sql(dbs.sourceUrl, `INSERT INTO people VALUES (21, 'Orphan', 'orphan@example.org', 'Member', 99, $1)`, [T0]);
    await sql(dbs.sourceUrl, `INSERT INTO interests VALUES (21, 'golf', $1)`, [T0]);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'people')).toMatchObject({ read: 9, created: 7, rejected: 2 });
    expect(entity(report, 'interests')).toMatchObject({ created: 5, rejected: 1 });
    const reasons = Object.fromEntries(report.rejectedSamples.map((r) => [`${r.entity}:${r.key}`, r.reason]));
    expect(reasons['people:20']).toMatch(/column full_name: value too long for type character varying\(20\)/);
    expect(reasons['people:21']).toMatch(/firm_id = 99: no synced firms record/);
    expect(reasons['interests:21, golf']).toMatch(/person_id = 21: no synced people record/);
    const stored = await sql(dbs.stateUrl, `SELECT entity, source_key, reason FROM ferry.rejected_rows WHERE run_id = $1 ORDER BY entity, source_key`, [report.runId]);
    expect(stored).toHaveLength(3);

    // Once fixed at the source, the next Full sync picks the rows up.
    await sql(dbs.sourceUrl, `UPDATE people SET name = 'Short', updated_at = now() WHERE id = 20`);
    await sql(dbs.sourceUrl, `UPDATE people SET firm_id = 2, updated_at = now() WHERE id = 21`);
    const fixed = await runSync({ ...base, mode: 'Full' });
    expect(fixed.totals.rejected).toBe(0);
    expect(entity(fixed, 'people').created).toBe(2);
    expect(entity(fixed, 'interests').created).toBe(1);
  });

  it('rejects a source row whose key is null', async () => {
    await sql(dbs.sourceUrl, `ALTER TABLE people DROP CONSTRAINT people_pkey, ALTER COLUMN id DROP NOT NULL`);
    await sql(dbs.sourceUrl, `INSERT INTO people VALUES (NULL, 'Nobody', 'nobody@example.org', 'Member', 1, $1)`, [T0]);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(entity(report, 'people')).toMatchObject({ read: 8, created: 7, rejected: 1 });
    expect(report.rejectedSamples).toContainEqual({ entity: 'people', key: null, reason: 'key id is null' });
  });

  it('names the field when a mapped column does not exist', async () => {
    const spec = miniFlowSpec();
    spec.entities[1].fields[0].target = 'given_name';
    const error = await runSync({ ...base, spec, mode: 'Full' }).catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('spec.entities[1].fields[0].target: column "given_name" does not exist in table "public.people"');
  });

  it('says which database it cannot reach', async () => {
    const bad = new URL(dbs.sourceUrl);
    bad.port = '1';
    const error = await runSync({ ...base, sourceUrl: bad.toString(), mode: 'Full' }).catch((e) => e);
    expect(error.message).toMatch(/^cannot connect to the source database at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\//);
    expect(error.message).not.toContain(decodeURIComponent(bad.password));
  });
});

describe('dry run', () => {
  it('computes the full report but writes nothing to the target, pairs or watermarks', async () => {
    const report = await runSync({ ...base, mode: 'Full', dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(entity(report, 'people')).toMatchObject({ created: 7 });
    expect(entity(report, 'interests')).toMatchObject({ created: 5, rejected: 0 });
    expect(await sql(dbs.targetUrl, 'SELECT count(*)::int AS n FROM people')).toEqual([{ n: 0 }]);
    expect(await sql(dbs.stateUrl, 'SELECT count(*)::int AS n FROM ferry.pairs')).toEqual([{ n: 0 }]);
    expect(await sql(dbs.stateUrl, 'SELECT count(*)::int AS n FROM ferry.watermarks')).toEqual([{ n: 0 }]);
    const real = await runSync({ ...base, mode: 'Full' });
    expect(real.totals.created).toBe(15);
  });
});

describe('Incremental sync', () => {
  it('picks up exactly the changed rows, including ties on updated_at across a batch boundary', async () => {
    await runSync({ ...base, mode: 'Full' });
    const tie = '2026-02-02 12:00:00+00';
    // batchSize is 3: five rows sharing one timestamp straddle two batches.
    await sql(dbs.sourceUrl, `UPDATE people SET status = status || '!', updated_at = $1 WHERE id IN (10, 12, 13, 15, 16)`, [tie]);
    const report = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(report, 'people')).toMatchObject({ read: 5, updated: 5, unchanged: 0 });
    expect(entity(report, 'firms').read).toBe(0);
    expect(report.watermarksAfter.people).toEqual({ cursor: tie, key: ['16'] });

    // Rows arriving later with the same timestamp but a higher key are not skipped.
    await sql(dbs.sourceUrl, `INSERT INTO people VALUES (17, 'Hal', 'hal@example.org', 'Member', 1, $1), (18, 'Ida', 'ida@example.org', 'Member', 1, $1)`, [tie]);
    const next = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(next, 'people')).toMatchObject({ read: 2, created: 2 });
    const again = await runSync({ ...base, mode: 'Incremental' });
    expect(again.totals.read).toBe(0);
    const statuses = await sql(dbs.targetUrl, `SELECT email, status FROM people WHERE status LIKE '%!' ORDER BY email`);
    expect(statuses.map((s) => s.email)).toEqual(['ann@example.org', 'cy@example.org', 'di@example.org', 'flo@example.org', 'gus@example.org']);
  });

  /**
   * A first import of 4,007 people in batches of 500: ferry.pairs is analysed (beside the run's end,
   * on the lane's stateStream) and the ANALYZE has ended before the run records its end.
   */
  async function expectAnalysedAfterFirstImport(mode: 'Full' | 'Incremental') {
    await sql(
      dbs.sourceUrl,
      `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1, timestamptz '2026-01-03' FROM generate_series(1000, 4999) i`,
    );
    const report = await runSync({ ...base, spec: { ...base.spec, batchSize: 500 }, mode });
    expect(entity(report, 'people').created).toBe(4007);
    const [stats] = await sql(
      dbs.stateUrl,
      `SELECT c.reltuples, s.last_analyze, r.completed_at
         FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid, ferry.runs r
        WHERE c.oid = 'ferry.pairs'::regclass AND r.id = $1`,
      [report.runId],
    );
    expect(stats!.last_analyze).not.toBeNull();
    expect(new Date(stats!.last_analyze).getTime()).toBeLessThanOrEqual(new Date(stats!.completed_at).getTime());
    expect(Number(stats!.reltuples)).toBeGreaterThanOrEqual(4007);
  }

  it('analyses the pairs after an Incremental first import, so the next run looks them up by key through the primary key', () => expectAnalysedAfterFirstImport('Incremental'));

  it('analyses the pairs after a Full first import beside the run’s end, done before the run records its end', () => expectAnalysedAfterFirstImport('Full'));

  /** Each entity's pair categories in the report, against a count in the state database after the run. */
  async function expectCategoriesCounted(report: RunReport) {
    const counted = await withClient(dbs.stateUrl, (c) => categoryCounts(c, 'test/mini'));
    for (const e of report.entities) expect(e.categories, e.name).toEqual(counted.get(e.name) ?? {});
  }

  it('reports the pair categories of a Full first import as the state database counts them (grouped batches: counted by the run, not read again)', async () => {
    await sql(dbs.sourceUrl, `INSERT INTO people SELECT i, 'P' || i, 'p' || i || '@example.org', 'Member', 1, timestamptz '2026-01-03' FROM generate_series(1000, 4999) i`);
    const first = await runSync({ ...base, spec: { ...base.spec, batchSize: 500 }, mode: 'Full' });
    expect(entity(first, 'people').categories).toEqual({ synchronised: 4007 });
    await expectCategoriesCounted(first);
    // The next Full run finds pairs: it counts them in the state database (a person gone: deleted, or gone with the row).
    await sql(dbs.sourceUrl, `DELETE FROM people WHERE id = 1000`);
    const second = await runSync({ ...base, spec: { ...base.spec, batchSize: 500 }, mode: 'Full' });
    expect(written(second)).toBeGreaterThan(0);
    await expectCategoriesCounted(second);
  });

  it('leaves the target equal to what a Full sync produces', async () => {
    await runSync({ ...base, mode: 'Incremental' });
    await sql(dbs.sourceUrl, `UPDATE people SET email = upper(email), updated_at = now() WHERE id % 2 = 0`);
    await sql(dbs.sourceUrl, `INSERT INTO interests VALUES (12, 'chess', now())`);
    await runSync({ ...base, mode: 'Incremental' });
    const incremental = await targetFacts();
    const full = await runSync({ ...base, mode: 'Full' });
    expect(written(full)).toBe(0);
    expect(await targetFacts()).toEqual(incremental);
  });
});

describe('one run at a time per flow', () => {
  it('refuses a second concurrent run with the active run and its start time', async () => {
    // Hold a lock on a target table so the first run parks mid-sync while it owns the flow lock.
    const blocker = new pg.Client({ connectionString: dbs.targetUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE people IN ACCESS EXCLUSIVE MODE');
    const first = runSync({ ...base, mode: 'Full', runId: 'run-first' });
    try {
      await expect.poll(async () => (await sql(dbs.stateUrl, `SELECT count(*)::int AS n FROM ferry.run_locks`).catch(() => [{ n: 0 }]))[0].n, { timeout: 10_000 }).toBe(1);
      const sourceSessions = async () => (await sql(dbs.sourceUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`))[0].n;
      const before = await sourceSessions();
      const second = await runSync({ ...base, mode: 'Incremental' }).catch((e) => e);
      expect(second).toBeInstanceOf(FlowBusyError);
      expect(second.message).toMatch(/^flow test\/mini is already syncing \(run run-first since \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
      // The refused run had opened its first lane while it asked for the lock: it closed those connections.
      await expect.poll(sourceSessions, { timeout: 5_000 }).toBe(before);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect((await first).status).toBe('Succeeded');
    const after = await runSync({ ...base, mode: 'Incremental' });
    expect(after.status).toBe('Succeeded');
  });
});
