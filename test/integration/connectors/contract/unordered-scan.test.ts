import { describe, expect, it } from 'vitest';
import { mysqlConnector } from '../../../../src/connectors/mysql/index.js';
import { postgresConnector } from '../../../../src/connectors/postgres/index.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import type { Connector } from '../../../../src/engine/connector.js';
import type { RunReport } from '../../../../src/engine/report.js';
import { runSync, type RunRequest } from '../../../../src/engine/run.js';
import { createLogger } from '../../../../src/util/logger.js';
import { withCapabilityOverride, type CapabilityOverride } from '../../../helpers/capability-override.js';
import { freshDatabase } from '../../../helpers/databases.js';
import { MINI_SOURCE, MINI_TARGET, pairingSpec, changeMiniSource, seedMiniRows, testDatabase, type TestDatabase } from '../../../helpers/pairings.js';
import { CONNECTORS, contractIt, isSql, truthy, type SqlKind } from './setup.js';

/**
 * A connector without `orderedScan` (an HTTP API, a file) must sync exactly like one with it: the
 * same Full, drift repair, deletion and Incremental cases run twice from one source, once through
 * the real connectors and once through the same connectors with orderedScan switched off (scans
 * then come out of key order, and the engine stages them in the state DB), and the two targets and
 * reports must agree step by step.
 */
const logger = createLogger({ level: 'silent', pretty: false });
const FACTORIES: Record<SqlKind, (url: string, what: string) => Connector> = { postgres: postgresConnector, mysql: mysqlConnector };
const COUNTERS = ['read', 'created', 'updated', 'unchanged', 'archived', 'deleted', 'rejected', 'linked', 'skipped', 'sourceGone'] as const;

interface World {
  target: TestDatabase;
  request: Omit<RunRequest, 'mode'>;
  overridden?: CapabilityOverride[];
}

async function world(kind: SqlKind, source: TestDatabase, unordered: boolean): Promise<World> {
  const target = await testDatabase(kind, unordered ? 'unord_dst' : 'ord_dst');
  await target.exec(MINI_TARGET[kind]);
  const real = { source: FACTORIES[kind](source.url, 'the source database'), target: FACTORIES[kind](target.url, 'the target database') };
  const overridden = unordered ? [withCapabilityOverride(real.source, { orderedScan: false }), withCapabilityOverride(real.target, { orderedScan: false })] : undefined;
  const connectors = overridden ? { source: overridden[0], target: overridden[1] } : real;
  const request = {
    flowId: `test/${unordered ? 'unordered' : 'ordered'}-${kind}`,
    spec: pairingSpec(kind, kind),
    sourceUrl: source.url,
    targetUrl: target.url,
    stateUrl: await freshDatabase(unordered ? 'unord_state' : 'ord_state'),
    connectors,
    logger,
  };
  return { target, request, overridden };
}

async function targetFacts(target: TestDatabase) {
  const firms = await target.rows(`SELECT id, title, archived FROM firms ORDER BY id`);
  const people = await target.rows(`SELECT p.id, p.full_name, p.email, p.status, f.title AS firm FROM people p LEFT JOIN firms f ON f.id = p.firm_id ORDER BY p.id`);
  const interests = await target.rows(`SELECT p.email, i.code FROM person_interests i JOIN people p ON p.id = i.person_id ORDER BY p.email, i.code`);
  return { firms: firms.map((f) => ({ ...f, archived: truthy(f.archived) })), people, interests };
}

const counts = (report: RunReport) =>
  Object.fromEntries(report.entities.map((e) => [e.name, Object.fromEntries(COUNTERS.map((c) => [c, e[c]]))]));

describe.each(CONNECTORS)('without orderedScan, %s syncs like with it', (kind) => {
  if (!isSql(kind)) return contractIt(kind, ['orderedScan'], 'the same target and counts with orderedScan switched off', () => {});
  it('Full, drift repair, archive and delete, no-change Full and Incremental give the same target and counts', { timeout: 180_000 }, async () => {
    const source = await testDatabase(kind, 'unord_src');
    await source.exec(MINI_SOURCE[kind]);
    await seedMiniRows(source);
    const ordered = await world(kind, source, false);
    const unordered = await world(kind, source, true);

    const step = async (mode: RunRequest['mode']) => {
      const expected = await runSync({ ...ordered.request, mode });
      const actual = await runSync({ ...unordered.request, mode });
      expect(actual.status, actual.error).toBe('Succeeded');
      expect(counts(actual)).toEqual(counts(expected));
      expect(await targetFacts(unordered.target)).toEqual(await targetFacts(ordered.target));
      return actual;
    };

    const first = await step('Full');
    expect(first.totals.created).toBe(15);

    await changeMiniSource(source);
    for (const w of [ordered, unordered]) {
      await w.target.exec(`UPDATE people SET status = 'Tampered' WHERE email = 'ann@example.org'`);
      await w.target.exec(`DELETE FROM person_interests WHERE code = 'audit'`);
    }
    const changed = await step('Full');
    expect(changed.entities.find((e) => e.name === 'firms')).toMatchObject({ updated: 1, archived: 1 });
    expect(changed.entities.find((e) => e.name === 'people')).toMatchObject({ deleted: 1 });
    expect((await targetFacts(unordered.target)).people.find((p) => p.email === 'ann@example.org')?.status).toBe('Member');

    const quiet = await step('Full');
    expect(quiet.totals.created + quiet.totals.updated + quiet.totals.archived + quiet.totals.deleted).toBe(0);

    const tie = source.at('2026-02-02 12:00:00');
    await source.exec(`UPDATE people SET status = 'Changed', updated_at = ${tie} WHERE id IN (10, 12, 15)`);
    await source.exec(`INSERT INTO people VALUES (17, 'Hal', 'hal@example.org', 'Member', 1, ${tie})`);
    const incremental = await step('Incremental');
    expect(incremental.entities.find((e) => e.name === 'people')).toMatchObject({ read: 4, updated: 3, created: 1 });
    await step('Full');

    // The override really handed scans out of key order (source scans and target hashes).
    expect(unordered.overridden!.every((c) => c.scrambled > 0)).toBe(true);
  });
});

/** A two-way flow between two tables of one kind, each side with its own ids (the Full scans of both sides are key-ordered streams). */
const TWO_WAY_DDL: Record<SqlKind, string> = {
  postgres: `
    CREATE TABLE members (id serial PRIMARY KEY, name text NOT NULL, email text, archived boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE contacts (nr integer GENERATED BY DEFAULT AS IDENTITY (START WITH 500) PRIMARY KEY, label text NOT NULL, mail text,
      inactive boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT now());`,
  mysql: `
    CREATE TABLE members (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200), archived tinyint(1) NOT NULL DEFAULT 0,
      updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
    CREATE TABLE contacts (nr int AUTO_INCREMENT PRIMARY KEY, label varchar(100) NOT NULL, mail varchar(200), inactive tinyint(1) NOT NULL DEFAULT 0,
      changed_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) AUTO_INCREMENT = 500;`,
};

function twoWaySpec(kind: SqlKind): SyncFlowSpec {
  const system = (name: string) => (kind === 'postgres' ? { postgres: { secretRef: { name } } } : { mysql: { secretRef: { name } } });
  return {
    direction: 'TwoWay',
    source: system('members'),
    target: system('contacts'),
    batchSize: 2,
    entities: [
      {
        name: 'people',
        source: { table: 'members', keys: ['id'], updatedAt: 'updated_at', archive: { column: 'archived' } },
        target: { table: 'contacts', keys: ['nr'], updatedAt: 'changed_at', archive: { column: 'inactive' } },
        match: [{ source: 'name', target: 'label', normalize: 'LowerTrim' }],
        fields: [
          { source: 'name', target: 'label' },
          { source: 'email', target: 'mail' },
        ],
        actions: ['link', 'createInTarget', 'createInSource', 'updateNewerWins', 'archiveInTarget'],
      },
    ],
  } as SyncFlowSpec;
}

describe.each(CONNECTORS)('a two-way flow without orderedScan on %s', (kind) => {
  if (!isSql(kind)) return contractIt(kind, ['orderedScan'], 'a two-way flow like the ordered run with orderedScan switched off', () => {});
  it('links, creates both ways, updates and archives like the ordered run', { timeout: 180_000 }, async () => {
    const twoWayWorld = async (unordered: boolean) => {
      const members = await testDatabase(kind, unordered ? 'unord_members' : 'ord_members');
      const contacts = await testDatabase(kind, unordered ? 'unord_contacts' : 'ord_contacts');
      await members.exec(TWO_WAY_DDL[kind]);
      await contacts.exec(TWO_WAY_DDL[kind]);
      const t = members.at('2026-01-01 10:00:00');
      await members.exec(`INSERT INTO members (name, email, updated_at) VALUES ('Ann', 'ann@example.org', ${t}), ('Bob', 'bob@example.org', ${t}),
        ('Cy', 'cy@example.org', ${t}), ('Di', 'di@example.org', ${t}), ('Ed', 'ed@example.org', ${t})`);
      await contacts.exec(`INSERT INTO contacts (label, mail, changed_at) VALUES ('bob', 'bob@old.example', ${t}), ('Flo', 'flo@example.org', ${t}), ('Gus', 'gus@example.org', ${t})`);
      const real = { source: FACTORIES[kind](members.url, 'the source database'), target: FACTORIES[kind](contacts.url, 'the target database') };
      const overridden = unordered ? [withCapabilityOverride(real.source, { orderedScan: false }), withCapabilityOverride(real.target, { orderedScan: false })] : undefined;
      const request = {
        flowId: `test/two-way-${unordered ? 'unordered' : 'ordered'}-${kind}`,
        spec: twoWaySpec(kind),
        sourceUrl: members.url,
        targetUrl: contacts.url,
        stateUrl: await freshDatabase(unordered ? 'unord_tw_state' : 'ord_tw_state'),
        connectors: overridden ? { source: overridden[0], target: overridden[1] } : real,
        logger,
      };
      return { members, contacts, request, overridden };
    };
    const facts = async (w: Awaited<ReturnType<typeof twoWayWorld>>) => ({
      members: (await w.members.rows(`SELECT name, email, archived FROM members ORDER BY name`)).map((r) => ({ name: r.name, email: r.email, archived: truthy(r.archived) })),
      contacts: (await w.contacts.rows(`SELECT label, mail, inactive FROM contacts ORDER BY label`)).map((r) => ({ label: r.label, mail: r.mail, inactive: truthy(r.inactive) })),
    });
    const ordered = await twoWayWorld(false);
    const unordered = await twoWayWorld(true);
    const step = async () => {
      const expected = await runSync({ ...ordered.request, mode: 'Full' });
      const actual = await runSync({ ...unordered.request, mode: 'Full' });
      expect(actual.status, actual.error).toBe('Succeeded');
      expect(counts(actual)).toEqual(counts(expected));
      expect(actual.entities[0].twoWay).toEqual(expected.entities[0].twoWay);
      expect(await facts(unordered)).toEqual(await facts(ordered));
      return actual;
    };

    const first = await step();
    expect((await facts(unordered)).contacts.map((c) => c.label)).toEqual(['Ann', 'Bob', 'Cy', 'Di', 'Ed', 'Flo', 'Gus']);
    expect(first.totals.linked).toBe(1);

    for (const w of [ordered, unordered]) {
      const later = w.members.at('2026-01-03 10:00:00');
      await w.members.exec(`UPDATE members SET email = 'cy@new.example', updated_at = ${later} WHERE name = 'Cy'`);
      await w.contacts.exec(`UPDATE contacts SET mail = 'gus@new.example', changed_at = ${later} WHERE label = 'Gus'`);
      await w.members.exec(`DELETE FROM members WHERE name = 'Di'`);
    }
    const changed = await step();
    expect(changed.totals.archived).toBe(1);
    const after = await facts(unordered);
    expect(after.contacts.find((c) => c.label === 'Di')?.inactive).toBe(true);
    expect(after.members.find((m) => m.name === 'Gus')?.email).toBe('gus@new.example');

    const quiet = await step();
    expect(quiet.totals.created + quiet.totals.updated + quiet.totals.archived).toBe(0);
    expect(unordered.overridden!.every((c) => c.scrambled > 0)).toBe(true);
  });
});
