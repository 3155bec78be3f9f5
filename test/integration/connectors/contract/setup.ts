import mysql from 'mysql2';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import pg from 'pg';
import type { Entity } from '../../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { mysqlConnector } from '../../../../src/connectors/mysql/index.js';
import { postgresConnector } from '../../../../src/connectors/postgres/index.js';
import type { Connector, Row, Session } from '../../../../src/engine/connector.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { testDatabase, type TestDatabase } from '../../../helpers/pairings.js';

/**
 * The connector contract suite's one list of connectors and its per-kind fixture (kysely's
 * test-setup is the model): every case file runs `describe.each(CONNECTORS)` and reaches the
 * system only through the connector interface; SQL of the test only builds fixtures and checks
 * what a case cannot see through the interface (that a row was not touched).
 */
export const CONNECTORS = ['postgres', 'mysql'] as const;
export type ConnectorKind = (typeof CONNECTORS)[number];

const FACTORIES: Record<ConnectorKind, (url: string, what: string) => Connector> = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
};

export interface ContractFixture {
  kind: ConnectorKind;
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
export async function initContract(kind: ConnectorKind, prefix: string, ddl: Record<ConnectorKind, string>): Promise<ContractFixture> {
  const db = await testDatabase(kind, prefix);
  await db.exec(ddl[kind]);
  const connector = FACTORIES[kind](db.url, 'the contract database');
  const sessions: Session[] = [];
  const open = async () => {
    const session = await connector.open();
    sessions.push(session);
    return session;
  };
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
    async close() {
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

/** A one-way flow spec between two systems of the given kinds. */
export function flowSpec(kind: ConnectorKind, entities: Entity[], targetKind: ConnectorKind = kind): SyncFlowSpec {
  const system = (k: ConnectorKind, name: string) => (k === 'postgres' ? { postgres: { secretRef: { name } } } : { mysql: { secretRef: { name } } });
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
export async function databaseAt(kind: ConnectorKind, url: string): Promise<Pick<TestDatabase, 'exec' | 'rows'>> {
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
