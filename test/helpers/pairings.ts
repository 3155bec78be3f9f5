import mysql from 'mysql2';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { freshDatabase, freshMysqlDatabase, withClient } from './databases.js';
import { miniFlowSpec } from './mini-flow.js';

/** The database kinds a flow can read and write; every pairing runs the same cases. */
export type DatabaseKind = 'postgres' | 'mysql';

export const PAIRINGS: [DatabaseKind, DatabaseKind][] = [
  ['postgres', 'postgres'],
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
  ['mysql', 'mysql'],
];

/** Plain SQL access to a test database of either kind, for fixtures and assertions (not the code under test). */
export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  exec(sql: string): Promise<void>;
  /** Rows as objects with every value as text (null stays null). */
  rows(sql: string): Promise<Record<string, string | null>[]>;
  /** A timestamp literal in UTC that this kind's DATETIME/timestamptz columns read the same way. */
  at(utc: string): string;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export async function testDatabase(kind: DatabaseKind, prefix: string): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const url = await freshDatabase(prefix);
    return {
      kind,
      url,
      exec: (sql) => withClient(url, async (c) => void (await c.query(sql))),
      rows: (sql) =>
        withClient(url, async (c) => (await c.query(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])))),
      at: (utc) => `'${utc}+00'`,
    };
  }
  const url = await freshMysqlDatabase(prefix);
  const withConnection = async <T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> => {
    const c = mysql.createConnection({ uri: url, multipleStatements: true, dateStrings: true, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
    try {
      await c.promise().query(`SET time_zone = '+00:00'`);
      return await fn(c);
    } finally {
      await c.promise().end();
    }
  };
  return {
    kind,
    url,
    exec: (sql) => withConnection(async (c) => void (await c.promise().query(sql))),
    rows: (sql) =>
      withConnection(async (c) => {
        const [rows] = await c.promise().query(sql);
        return (rows as Record<string, unknown>[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])));
      }),
    at: (utc) => `'${utc}'`,
  };
}

/** The mini source schema (firms <- people <- interests) in each kind's own types. */
export const MINI_SOURCE: Record<DatabaseKind, string> = {
  postgres: `
    CREATE TABLE firms (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE people (id bigint PRIMARY KEY, name text, email text, status text, firm_id bigint, updated_at timestamptz NOT NULL);
    CREATE TABLE interests (person_id bigint NOT NULL, code text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (person_id, code));
    CREATE INDEX ON people (updated_at, id);`,
  mysql: `
    CREATE TABLE firms (id bigint PRIMARY KEY, name varchar(100) NOT NULL, updated_at datetime(6) NOT NULL);
    CREATE TABLE people (id bigint PRIMARY KEY, name varchar(100), email varchar(200), status varchar(20), firm_id bigint, updated_at datetime(6) NOT NULL, INDEX (updated_at, id));
    CREATE TABLE interests (person_id bigint NOT NULL, code varchar(50) NOT NULL, updated_at datetime(6) NOT NULL, PRIMARY KEY (person_id, code));`,
};

/** The website's target schema with its own generated ids (sequences or AUTO_INCREMENT) and foreign keys. */
export const MINI_TARGET: Record<DatabaseKind, string> = {
  postgres: `
    CREATE TABLE firms (id bigserial PRIMARY KEY, title text NOT NULL, archived boolean NOT NULL DEFAULT false);
    ALTER SEQUENCE firms_id_seq RESTART WITH 1000;
    CREATE TABLE people (id bigserial PRIMARY KEY, full_name varchar(20), email text, status text, firm_id bigint REFERENCES firms(id), archived boolean NOT NULL DEFAULT false);
    ALTER SEQUENCE people_id_seq RESTART WITH 5000;
    CREATE TABLE person_interests (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 90000) PRIMARY KEY, person_id bigint NOT NULL REFERENCES people(id), code text NOT NULL);`,
  mysql: `
    CREATE TABLE firms (id bigint AUTO_INCREMENT PRIMARY KEY, title varchar(200) NOT NULL, archived tinyint(1) NOT NULL DEFAULT 0) AUTO_INCREMENT = 1000;
    CREATE TABLE people (id bigint AUTO_INCREMENT PRIMARY KEY, full_name varchar(20), email varchar(200), status varchar(20), firm_id bigint,
      archived tinyint(1) NOT NULL DEFAULT 0, FOREIGN KEY (firm_id) REFERENCES firms (id)) AUTO_INCREMENT = 5000;
    CREATE TABLE person_interests (id bigint AUTO_INCREMENT PRIMARY KEY, person_id bigint NOT NULL, code varchar(50) NOT NULL,
      FOREIGN KEY (person_id) REFERENCES people (id)) AUTO_INCREMENT = 90000;`,
};

export const MINI_T0 = '2026-01-01 10:00:00';

/** 3 firms, 7 people (all sharing one updated_at) and their interests: the same rows as seedMini. */
export async function seedMiniRows(db: TestDatabase): Promise<void> {
  const t = db.at(MINI_T0);
  await db.exec(`INSERT INTO firms VALUES (1, 'Acme', ${t}), (2, 'Globex', ${t}), (3, 'Initech', ${t})`);
  await db.exec(`INSERT INTO people VALUES
      (10, 'Ann', 'ann@example.org', 'Member', 1, ${t}), (11, 'Bob', 'bob@example.org', 'Friend', 2, ${t}),
      (12, 'Cy', 'cy@example.org', 'Member', NULL, ${t}), (13, 'Di', 'di@example.org', 'Lapsed', 3, ${t}),
      (14, 'Ed', 'ed@example.org', 'Member', 1, ${t}), (15, 'Flo', 'flo@example.org', 'Member', 2, ${t}),
      (16, 'Gus', 'gus@example.org', 'Friend', 3, ${t})`);
  await db.exec(`INSERT INTO interests VALUES (10, 'golf', ${t}), (10, 'tax', ${t}), (11, 'audit', ${t}), (13, 'tax', ${t}), (16, 'golf', ${t})`);
}

/** The changes the Full cases apply to the mini source: Acme renamed, Gus to Globex, Initech and Bob (with his interest) gone, Di without firm. */
export async function changeMiniSource(source: TestDatabase): Promise<void> {
  const later = source.at('2026-01-05 09:00:00');
  await source.exec(`UPDATE firms SET name = 'Acme Corp', updated_at = ${later} WHERE id = 1`);
  await source.exec(`UPDATE people SET firm_id = 2, updated_at = ${later} WHERE id = 16`);
  await source.exec(`DELETE FROM firms WHERE id = 3`);
  await source.exec(`UPDATE people SET firm_id = NULL, updated_at = ${later} WHERE id = 13`);
  await source.exec(`DELETE FROM interests WHERE person_id = 11`);
  await source.exec(`DELETE FROM people WHERE id = 11`);
}

/** The mini flow with each side's system kind. */
export function pairingSpec(source: DatabaseKind, target: DatabaseKind, overrides: Partial<SyncFlowSpec> = {}): SyncFlowSpec {
  const system = (kind: DatabaseKind, name: string) => (kind === 'postgres' ? { postgres: { secretRef: { name } } } : { mysql: { secretRef: { name } } });
  return miniFlowSpec({ source: system(source, 'src'), target: system(target, 'dst'), ...overrides });
}
