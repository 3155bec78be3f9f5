import mysql from 'mysql2';
import { it } from 'vitest';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import pg from 'pg';
import type { Entity } from '../../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { mysqlConnector } from '../../../../src/connectors/mysql/index.js';
import { postgresConnector } from '../../../../src/connectors/postgres/index.js';
import type { Connector, ConnectorCapabilities, Row, Session } from '../../../../src/engine/connector.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { testDatabase, type TestDatabase } from '../../../helpers/pairings.js';

/**
 * The connector contract suite's one list of connectors and its per-kind fixture (kysely's
 * test-setup is the model): every case file runs `describe.each(CONNECTORS)` and reaches the
 * system only through the connector interface; SQL of the test only builds fixtures and checks
 * what a case cannot see through the interface (that a row was not touched).
 */
export const CONNECTORS = ['postgres', 'mysql', 'http', 'files'] as const;
export type ConnectorKind = (typeof CONNECTORS)[number];
/** The connectors over SQL databases: the cases whose fixtures are SQL tables run on these. */
export const SQL_CONNECTORS = ['postgres', 'mysql'] as const;
export type SqlKind = (typeof SQL_CONNECTORS)[number];
export const isSql = (kind: ConnectorKind): kind is SqlKind => kind === 'postgres' || kind === 'mysql';

/**
 * What a contract case may need besides reading a table. A connector that lacks it skips the case
 * and says why; where the engine has a fallback for the lack (unordered scans staged in the state
 * DB, a client-side Incremental filter, simulated writes instead of a unit of work), a case of the
 * suite asserts the fallback's result instead.
 */
export type Need = 'writes' | 'sql' | 'orderedScan' | 'triggerLog' | 'serverProcess' | 'transactionOutcome';

const STAGED = 'lacks orderedScan itself: every Full run through it takes the staged join (interface.test.ts: "a Full run through the staged join")';

export const LACKS: Record<ConnectorKind, Partial<Record<Need, string>>> = {
  postgres: {},
  mysql: {
    transactionOutcome:
      'MariaDB/MySQL cannot be asked about a finished transaction: the recovery compares the rows under the keys (and its new rows take keys the insert returns, never drawn before)',
  },
  http: {
    transactionOutcome: 'an API has no transactions',
    sql: 'an API has no SQL text (values travel as JSON)',
    triggerLog: 'an API has no trigger log; its writes are checked by reading the records back',
    orderedScan: STAGED,
    serverProcess: 'the API server is not one of the private database servers of servers.ts',
  },
  files: {
    writes: 'read-only source, no writes',
    transactionOutcome: 'read-only source, no writes',
    sql: 'partner files hold no SQL text',
    triggerLog: 'read-only source, no writes',
    orderedScan: STAGED,
    serverProcess: 'files are read from a directory here, no server process',
  },
};

/** What each connector declares it can do (the facts the suite's fallbacks hang on). */
export const DECLARED: Record<ConnectorKind, Partial<ConnectorCapabilities>> = {
  postgres: { orderedScan: true, transactions: true, sharedSnapshot: true, generatedKeys: 'drawn', changeFeed: 'notify', transactionOutcome: true },
  mysql: { orderedScan: true, transactions: true, sharedSnapshot: false, generatedKeys: 'returned', changeFeed: 'poll' },
  http: { orderedScan: false, transactions: false, sharedSnapshot: false, generatedKeys: 'returned', changeFeed: 'poll', newKeyOnRecreate: true },
  files: { orderedScan: false, transactions: false, sharedSnapshot: false, changeFeed: 'poll' },
};

/** Why `kind` skips a case that needs `needs`, or undefined when it runs it. */
export function lacking(kind: ConnectorKind, needs: readonly Need[]): string | undefined {
  return needs.map((n) => LACKS[kind][n]).find((reason) => reason !== undefined);
}

/**
 * A case of the suite for `kind`: run when the connector has what it needs, otherwise skipped with
 * the reason in its name and printed once ("files: read-only source, no writes").
 */
export function contractIt(kind: ConnectorKind, needs: readonly Need[], name: string, fn: () => Promise<void> | void, timeout?: number): void {
  const reason = lacking(kind, needs);
  if (reason === undefined) {
    it(name, { ...(timeout ? { timeout } : {}) }, fn);
    return;
  }
  console.info(`contract: skipped on ${kind}: ${name} (${kind}: ${reason})`);
  it.skip(`${name} (${kind}: ${reason})`, fn);
}

const FACTORIES: Record<SqlKind, (url: string, what: string) => Connector> = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
};

export interface ContractFixture {
  kind: SqlKind;
  /** Plain SQL on the fresh database, for fixtures and for facts the interface does not show. */
  db: TestDatabase;
  connector: Connector;
  /** A session through the connector; closed by `close()`. */
  open(): Promise<Session>;
  /** The engine's plan for one entity whose source and target tables both live in this database. */
  plan(entity: Entity): Promise<EntityPlan>;
  close(): Promise<void>;
}

/** A fresh database of `kind` with `ddl[kind]` applied. */
export async function initContract(kind: SqlKind, prefix: string, ddl: Record<SqlKind, string>): Promise<ContractFixture> {
  const db = await testDatabase(kind, prefix);
  await db.exec(ddl[kind]);
  const connector = FACTORIES[kind](db.url, 'the contract database');
  const { open, closeAll } = sessionsOf(connector);
  let planner: Session | undefined;
  return {
    kind,
    db,
    connector,
    open,
    async plan(entity) {
      planner ??= await open();
      const catalog = await planner.readCatalog('', [entity.source.table, entity.target.table]);
      return planFlow(withFlowDefaults(flowSpec(kind, [entity])), (_side, table) => catalog.get(table)).entities[0];
    },
    close: closeAll,
  };
}

/** Opens sessions of `connector` for a fixture, and closes every one it opened. */
export function sessionsOf(connector: Connector): { open(): Promise<Session>; closeAll(): Promise<void> } {
  const sessions: Session[] = [];
  return {
    async open() {
      const session = await connector.open();
      sessions.push(session);
      return session;
    },
    async closeAll() {
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

/** A one-way flow spec between two systems of the given kinds. */
export function flowSpec(kind: SqlKind, entities: Entity[], targetKind: SqlKind = kind): SyncFlowSpec {
  const system = (k: SqlKind, name: string) => (k === 'postgres' ? { postgres: { secretRef: { name } } } : { mysql: { secretRef: { name } } });
  return { direction: 'OneWay', source: system(kind, 'src'), target: system(targetKind, 'dst'), entities } as SyncFlowSpec;
}

export async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** A boolean as either kind prints it. */
export const truthy = (value: string | null | undefined) => value === 'true' || value === 't' || value === '1';

/** Plain SQL on a database of `kind` at `url` (a private server's, say), for fixtures and assertions. */
export async function databaseAt(kind: SqlKind, url: string): Promise<Pick<TestDatabase, 'exec' | 'rows'>> {
  if (kind === 'postgres') {
    const run = async (sql: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)) as unknown as pg.QueryResult;
      } finally {
        await c.end();
      }
    };
    return {
      exec: async (sql) => void (await run(sql)),
      rows: async (sql) => (await run(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)]))),
    };
  }
  const run = async (sql: string) => {
    const c = mysql.createConnection({ uri: url, multipleStatements: true, dateStrings: true });
    try {
      return (await c.promise().query(sql))[0];
    } finally {
      await c.promise().end();
    }
  };
  return {
    exec: async (sql) => void (await run(sql)),
    rows: async (sql) => (await run(sql) as Record<string, unknown>[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)]))),
  };
}

/** A string literal for fixture SQL: an escape string on PostgreSQL, MariaDB's default escapes otherwise. */
export function sqlText(kind: string, value: string): string {
  const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "''");
  return kind === 'postgres' ? `E'${escaped}'` : `'${escaped}'`;
}
