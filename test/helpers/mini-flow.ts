import type { Logger } from 'pino';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import type { RunRequest } from '../../src/engine/run.js';
import { freshDatabase, withClient } from './databases.js';

/** A small, hand-checkable source/target pair: firms <- people <- interests, with the website's own ids. */
export const MINI_SOURCE_SQL = `
CREATE TABLE firms (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE people (id bigint PRIMARY KEY, name text, email text, status text, firm_id bigint, updated_at timestamptz NOT NULL);
CREATE TABLE interests (person_id bigint NOT NULL, code text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (person_id, code));
CREATE INDEX ON people (updated_at, id);
`;

export const MINI_TARGET_SQL = `
CREATE TABLE firms (id bigserial PRIMARY KEY, title text NOT NULL, archived boolean NOT NULL DEFAULT false);
ALTER SEQUENCE firms_id_seq RESTART WITH 1000;
CREATE TABLE people (id bigserial PRIMARY KEY, full_name varchar(20), email text, status text, firm_id bigint REFERENCES firms(id), archived boolean NOT NULL DEFAULT false);
ALTER SEQUENCE people_id_seq RESTART WITH 5000;
CREATE TABLE person_interests (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 90000) PRIMARY KEY, person_id bigint NOT NULL REFERENCES people(id), code text NOT NULL);
`;

export function miniFlowSpec(overrides: Partial<SyncFlowSpec> = {}): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    batchSize: 3,
    entities: [
      {
        name: 'firms',
        source: { table: 'firms', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: 'firms', keys: ['id'], archive: { column: 'archived' } },
        fields: [{ source: 'name', target: 'title' }],
        actions: ['link', 'createInTarget', 'updateTarget', 'archiveInTarget'],
      },
      {
        name: 'people',
        source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: 'people', keys: ['id'], archive: { column: 'archived' } },
        fields: [
          { source: 'name', target: 'full_name' },
          { source: 'email', target: 'email' },
          { source: 'status', target: 'status' },
          { source: 'firm_id', target: 'firm_id', lookup: 'firms' },
        ],
        requires: ['firms'],
        related: [{ entity: 'interests' }],
        match: [{ source: 'email', target: 'email', normalize: 'Lower' }],
        actions: ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'],
      },
      {
        name: 'interests',
        source: { table: 'interests', keys: ['person_id', 'code'], updatedAt: 'updated_at' },
        target: { table: 'person_interests', keys: ['id'] },
        fields: [
          { source: 'person_id', target: 'person_id', lookup: 'people' },
          { source: 'code', target: 'code' },
        ],
        requires: ['people'],
        actions: ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'],
      },
    ],
    ...overrides,
  } as SyncFlowSpec;
}

export async function miniDatabases(): Promise<{ sourceUrl: string; targetUrl: string; stateUrl: string }> {
  const [sourceUrl, targetUrl, stateUrl] = await Promise.all([freshDatabase('src'), freshDatabase('dst'), freshDatabase('state')]);
  await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
  await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
  return { sourceUrl, targetUrl, stateUrl };
}

export const T0 = '2026-01-01 10:00:00+00';

/** Seeds 3 firms, 7 people (several sharing one updated_at) and their interests. */
export async function seedMini(sourceUrl: string): Promise<void> {
  await withClient(sourceUrl, async (c) => {
    await c.query(`INSERT INTO firms VALUES (1, 'Acme', $1), (2, 'Globex', $1), (3, 'Initech', $1)`, [T0]);
    await c.query(
      `INSERT INTO people VALUES
        (10, 'Ann', 'ann@example.org', 'Member', 1, $1),
        (11, 'Bob', 'bob@example.org', 'Friend', 2, $1),
        (12, 'Cy', 'cy@example.org', 'Member', NULL, $1),
        (13, 'Di', 'di@example.org', 'Lapsed', 3, $1),
        (14, 'Ed', 'ed@example.org', 'Member', 1, $1),
        (15, 'Flo', 'flo@example.org', 'Member', 2, $1),
        (16, 'Gus', 'gus@example.org', 'Friend', 3, $1)`,
      [T0],
    );
    await c.query(
      `INSERT INTO interests VALUES (10, 'golf', $1), (10, 'tax', $1), (11, 'audit', $1), (13, 'tax', $1), (16, 'golf', $1)`,
      [T0],
    );
  });
}

export type MiniDatabases = Awaited<ReturnType<typeof miniDatabases>>;

/** Fresh, seeded mini databases and a run request on them (without its mode) for `flowId`. */
export async function seededMiniRun(flowId: string, logger: Logger): Promise<{ dbs: MiniDatabases; base: Omit<RunRequest, 'mode'> }> {
  const dbs = await miniDatabases();
  await seedMini(dbs.sourceUrl);
  return { dbs, base: { flowId, spec: miniFlowSpec(), sourceUrl: dbs.sourceUrl, targetUrl: dbs.targetUrl, stateUrl: dbs.stateUrl, logger } };
}

/** The rows of one statement on the database at `url`. */
export const sqlRows = (url: string, text: string, values: unknown[] = []) => withClient(url, async (c) => (await c.query(text, values)).rows);
