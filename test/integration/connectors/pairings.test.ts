import { describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import type { RunReport } from '../../../src/engine/report.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_SOURCE, MINI_T0, MINI_TARGET, PAIRINGS, pairingSpec, changeMiniSource, seedMiniRows, testDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/pairings.js';

/**
 * Every mode of a one-way flow on every pairing of PostgreSQL and MariaDB, with the same rows and
 * the same expectations: the engine must not care which system sits on either side.
 */
const logger = createLogger({ level: 'silent', pretty: false });
const entity = (report: RunReport, name: string) => report.entities.find((e) => e.name === name)!;
const written = (report: RunReport) => report.totals.created + report.totals.updated + report.totals.archived + report.totals.deleted;
const truthy = (value: string | null) => value === 'true' || value === 't' || value === '1';

interface Pairing {
  source: TestDatabase;
  target: TestDatabase;
  base: Omit<RunRequest, 'mode'>;
}

async function pairing(sourceKind: DatabaseKind, targetKind: DatabaseKind, overrides: Parameters<typeof pairingSpec>[2] = {}): Promise<Pairing> {
  const [source, target, stateUrl] = await Promise.all([testDatabase(sourceKind, 'src'), testDatabase(targetKind, 'dst'), freshDatabase('state')]);
  await source.exec(MINI_SOURCE[sourceKind]);
  await target.exec(MINI_TARGET[targetKind]);
  await seedMiniRows(source);
  const spec = pairingSpec(sourceKind, targetKind, { scopes: [{ name: 'people_only', entities: ['people'], includeRelated: false }], ...overrides });
  return { source, target, base: { flowId: `test/${sourceKind}-${targetKind}`, spec, sourceUrl: source.url, targetUrl: target.url, stateUrl, logger } };
}

/** The target as facts both kinds print alike: people with their firm's title, interests with their person's e-mail. */
async function targetFacts(target: TestDatabase) {
  const firms = await target.rows(`SELECT title, archived FROM firms ORDER BY title`);
  const people = await target.rows(
    `SELECT p.id, p.full_name, p.email, p.status, f.title AS firm FROM people p LEFT JOIN firms f ON f.id = p.firm_id ORDER BY p.email`,
  );
  const interests = await target.rows(`SELECT p.email, i.code FROM person_interests i JOIN people p ON p.id = i.person_id ORDER BY p.email, i.code`);
  return {
    firms: firms.map((f) => ({ title: f.title, archived: truthy(f.archived) })),
    people: people.map((p) => ({ id: Number(p.id), name: p.full_name, email: p.email, status: p.status, firm: p.firm })),
    interests,
  };
}

describe.each(PAIRINGS)('one-way %s -> %s', (sourceKind, targetKind) => {
  it('Full creates every row with the target’s own ids, then writes nothing when nothing changed', async () => {
    const { target, base } = await pairing(sourceKind, targetKind);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'firms')).toMatchObject({ read: 3, created: 3, rejected: 0 });
    expect(entity(report, 'people')).toMatchObject({ read: 7, created: 7, rejected: 0 });
    expect(entity(report, 'interests')).toMatchObject({ read: 5, created: 5, rejected: 0 });
    const facts = await targetFacts(target);
    expect(facts.people.every((p) => p.id >= 5000)).toBe(true);
    expect(facts.people.find((p) => p.email === 'ann@example.org')).toMatchObject({ name: 'Ann', firm: 'Acme' });
    expect(facts.people.find((p) => p.email === 'cy@example.org')).toMatchObject({ firm: null });
    expect(facts.interests).toEqual([
      { email: 'ann@example.org', code: 'golf' },
      { email: 'ann@example.org', code: 'tax' },
      { email: 'bob@example.org', code: 'audit' },
      { email: 'di@example.org', code: 'tax' },
      { email: 'gus@example.org', code: 'golf' },
    ]);
    const again = await runSync({ ...base, mode: 'Full' });
    expect(written(again)).toBe(0);
    expect(again.totals.unchanged).toBe(15);
  });

  it('Full propagates updates, archives and deletes, and repairs target drift', async () => {
    const { source, target, base } = await pairing(sourceKind, targetKind);
    await runSync({ ...base, mode: 'Full' });
    await changeMiniSource(source);
    await target.exec(`UPDATE people SET status = 'Tampered' WHERE email = 'ann@example.org'`);

    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'firms')).toMatchObject({ updated: 1, archived: 1 });
    expect(entity(report, 'people')).toMatchObject({ updated: 3, deleted: 1 });
    expect(entity(report, 'interests')).toMatchObject({ deleted: 1 });
    const facts = await targetFacts(target);
    expect(facts.firms).toEqual([
      { title: 'Acme Corp', archived: false },
      { title: 'Globex', archived: false },
      { title: 'Initech', archived: true },
    ]);
    expect(facts.people.map((p) => p.email)).not.toContain('bob@example.org');
    expect(facts.people.find((p) => p.email === 'gus@example.org')).toMatchObject({ firm: 'Globex' });
    expect(facts.people.find((p) => p.email === 'ann@example.org')).toMatchObject({ status: 'Member' });
    expect(written(await runSync({ ...base, mode: 'Full' }))).toBe(0);
  });

  it('Incremental reads exactly the changed rows, ties on updatedAt included, and ends equal to a Full', async () => {
    const { source, target, base } = await pairing(sourceKind, targetKind);
    await runSync({ ...base, mode: 'Full' });
    const tie = source.at('2026-02-02 12:00:00');
    // batchSize is 3: five rows sharing one timestamp straddle two batches.
    await source.exec(`UPDATE people SET status = 'Changed', updated_at = ${tie} WHERE id IN (10, 12, 13, 15, 16)`);
    const report = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(report, 'people')).toMatchObject({ read: 5, updated: 5, unchanged: 0 });
    expect(entity(report, 'firms').read).toBe(0);
    expect(report.watermarksAfter.people?.key).toEqual(['16']);

    await source.exec(`INSERT INTO people VALUES (17, 'Hal', 'hal@example.org', 'Member', 1, ${tie}), (18, 'Ida', 'ida@example.org', 'Member', 1, ${tie})`);
    const next = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(next, 'people')).toMatchObject({ read: 2, created: 2 });
    expect((await runSync({ ...base, mode: 'Incremental' })).totals.read).toBe(0);
    const incremental = await targetFacts(target);
    expect(written(await runSync({ ...base, mode: 'Full' }))).toBe(0);
    expect(await targetFacts(target)).toEqual(incremental);
  });

  it('Record syncs one person with their closure; Scope touches only its entities', async () => {
    const { source, target, base } = await pairing(sourceKind, targetKind);
    const record = await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: '10' } });
    expect(record.status).toBe('Succeeded');
    expect(entity(record, 'firms')).toMatchObject({ created: 1 });
    expect(entity(record, 'people')).toMatchObject({ created: 1 });
    expect(entity(record, 'interests')).toMatchObject({ created: 2 });
    const facts = await targetFacts(target);
    expect(facts.people.map((p) => p.email)).toEqual(['ann@example.org']);
    expect(facts.firms.map((f) => f.title)).toEqual(['Acme']);

    await runSync({ ...base, mode: 'Full' });
    await source.exec(`UPDATE people SET status = 'Scoped', updated_at = ${source.at('2026-03-01 00:00:00')} WHERE id = 12`);
    await source.exec(`UPDATE firms SET name = 'Not in scope', updated_at = ${source.at('2026-03-01 00:00:00')} WHERE id = 2`);
    const scope = await runSync({ ...base, mode: 'Scope', scope: 'people_only', scopeMode: 'Full' });
    expect(scope.entities.map((e) => e.name)).toEqual(['people']);
    expect(entity(scope, 'people')).toMatchObject({ updated: 1 });
    const after = await targetFacts(target);
    expect(after.people.find((p) => p.email === 'cy@example.org')).toMatchObject({ status: 'Scoped' });
    expect(after.firms.map((f) => f.title)).toContain('Globex');
  });

  it('a dry run reports the writes and leaves target and state untouched', async () => {
    const { target, base } = await pairing(sourceKind, targetKind);
    const report = await runSync({ ...base, mode: 'Full', dryRun: true });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'people')).toMatchObject({ created: 7 });
    expect(entity(report, 'interests')).toMatchObject({ created: 5, rejected: 0 });
    expect(await target.rows(`SELECT count(*) AS n FROM people`)).toEqual([{ n: '0' }]);
    const pairs = await withClient(base.stateUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ferry.pairs`)).rows[0].n);
    expect(pairs).toBe(0);
    expect((await runSync({ ...base, mode: 'Full' })).totals.created).toBe(15);
  });

  it('rejects a row the target cannot hold with the column named, and syncs the rest', async () => {
    const { source, base } = await pairing(sourceKind, targetKind);
    await source.exec(`INSERT INTO people VALUES (20, 'A name far too long for the website', 'long@example.org', 'Member', 1, ${source.at(MINI_T0)})`);
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(entity(report, 'people')).toMatchObject({ read: 8, created: 7, rejected: 1 });
    expect(report.rejectedSamples.find((r) => r.key === '20')?.reason).toMatch(/full_name/);
  });
});
