import mysql from 'mysql2';
import { withFlowDefaults } from '../../src/api/defaults.js';
import type { Entity } from '../../src/api/entity.js';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import type { Row, Session } from '../../src/engine/connector.js';
import { planFlow, type EntityPlan } from '../../src/engine/plan.js';
import { mysqlConnector } from '../../src/connectors/mysql/index.js';
import { freshMysqlDatabase } from './databases.js';

/** A fresh MariaDB database for one test file: its URL, statements for fixtures, and connector sessions. */
export interface MysqlFixture {
  url: string;
  exec(statements: string | string[], values?: (string | number | null)[]): Promise<void>;
  query(statement: string, values?: (string | number | null)[]): Promise<Row[]>;
  open(): Promise<Session>;
  close(): Promise<void>;
}

export async function mysqlFixture(prefix: string): Promise<MysqlFixture> {
  const url = await freshMysqlDatabase(prefix);
  const admin = mysql.createConnection({ uri: url, multipleStatements: false, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  const sessions: Session[] = [];
  const connector = mysqlConnector(url, 'the test database');
  return {
    url,
    async exec(statements, values) {
      for (const statement of Array.isArray(statements) ? statements : [statements]) {
        if (values) await admin.promise().execute(statement, values);
        else await admin.promise().query(statement);
      }
    },
    async query(statement, values = []) {
      const [rows] = await admin.promise().query({ sql: statement, rowsAsArray: true }, values);
      return Array.isArray(rows) ? rows.map((row) => (Array.isArray(row) ? row.map((v) => (v === null ? null : String(v))) : [])) : [];
    },
    async open() {
      const session = await connector.open();
      sessions.push(session);
      return session;
    },
    async close() {
      await Promise.all(sessions.map((s) => s.close()));
      await admin.promise().end();
    },
  };
}

/** An EntityPlan for one entity, compiled by the engine's planner against the connector's catalogs. */
export async function planEntity(source: Session, target: Session, entity: Entity, direction: SyncFlowSpec['direction'] = 'OneWay'): Promise<EntityPlan> {
  const [sourceCatalog, targetCatalog] = await Promise.all([
    source.readCatalog('', [entity.source.table]),
    target.readCatalog('', [entity.target.table]),
  ]);
  const spec: SyncFlowSpec = {
    direction,
    source: { mysql: { secretRef: { name: 'src' } } },
    target: { mysql: { secretRef: { name: 'dst' } } },
    entities: [entity],
  };
  const flow = planFlow(withFlowDefaults(spec), (side, table) => (side === 'source' ? sourceCatalog : targetCatalog).get(table));
  return flow.entities[0];
}

export async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of rows) out.push(row);
  return out;
}
