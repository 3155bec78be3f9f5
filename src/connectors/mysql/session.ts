import type { ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureSource } from '../../engine/closure.js';
import type { ConnectorCapabilities, Row, Session, SideReader, SideSpec, TableInfo, TableReader, TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { readCatalog } from './catalog.js';
import type { ServerFeatures } from './connect.js';
import { MysqlClosureSource } from './closure.js';
import type { Db } from './db.js';
import type { ColumnTypes } from './expressions.js';
import { streamLeftOpen } from './row-stream.js';
import { MysqlSideReader } from './side-reader.js';
import { MysqlReader } from './source.js';
import { ident } from './sql.js';
import { MysqlWriter } from './target.js';
import { parseType } from './values.js';

const CLOSE_WAIT_MS = 2_000;

export const MYSQL_CAPABILITIES: ConnectorCapabilities = {
  orderedScan: true,
  transactions: true,
  // A consistent snapshot cannot be handed to another connection: each session takes its own.
  sharedSnapshot: false,
  generatedKeys: 'returned',
  changeFeed: 'poll',
};

export class MysqlSession implements Session {
  readonly capabilities = MYSQL_CAPABILITIES;
  private readonly types = new Map<string, Promise<ColumnTypes>>();

  constructor(
    private readonly db: Db,
    private readonly features: ServerFeatures,
  ) {}

  readCatalog(namespace: string, tables: string[]): Promise<Map<string, TableInfo>> {
    return readCatalog(this.db, namespace, tables);
  }

  /** A table's column types, read once per session (plans carry only the mapped target types). */
  private columnTypes(schema: string, table: string): Promise<ColumnTypes> {
    const id = `${schema}.${table}`;
    let types = this.types.get(id);
    if (!types) {
      types = readCatalog(this.db, schema, [table]).then((found) => {
        const columns = found.get(table)?.columns ?? new Map();
        return new Map([...columns.values()].map((c) => [c.name, parseType(c.sqlType)]));
      });
      this.types.set(id, types);
    }
    return types;
  }

  private async unit(statement: string, open: boolean): Promise<void> {
    await this.db.run(statement);
    this.db.inTransaction = open;
  }

  begin(): Promise<void> {
    return this.unit('START TRANSACTION', true);
  }

  commit(): Promise<void> {
    return this.unit('COMMIT', false);
  }

  async rollback(): Promise<void> {
    if (this.abandonedStream()) return;
    return this.unit('ROLLBACK', false);
  }

  async savepoint(name: string): Promise<void> {
    await this.db.run(`SAVEPOINT ${ident(name)}`);
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.db.run(`ROLLBACK TO SAVEPOINT ${ident(name)}`);
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.db.run(`RELEASE SAVEPOINT ${ident(name)}`);
  }

  async beginSnapshot(): Promise<string | undefined> {
    await this.db.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await this.unit('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', true);
    return undefined;
  }

  async joinSnapshot(): Promise<void> {
    await this.beginSnapshot();
  }

  async endSnapshot(): Promise<void> {
    if (this.abandonedStream()) return;
    return this.commit();
  }

  /**
   * A row stream left unfinished holds the connection (see `streamLeftOpen`). Break the connection
   * instead of queueing behind it: the server rolls back what it had open, as the caller asked.
   */
  private abandonedStream(): boolean {
    if (!streamLeftOpen(this.db.connection)) return false;
    this.db.inTransaction = false;
    this.db.connection.destroy();
    return true;
  }

  reader(plan: EntityPlan): TableReader {
    return new MysqlReader(this.db, plan, () => this.columnTypes(plan.source.schema, plan.source.table));
  }

  writer(plan: EntityPlan): TableWriter {
    return new MysqlWriter(this.db, plan, () => this.columnTypes(plan.target.schema, plan.target.table), this.features);
  }

  sideReader(side: SideSpec): SideReader {
    const { schema, table } = side.reader.source;
    return new MysqlSideReader(this.db, side, () => this.columnTypes(schema, table));
  }

  closureSource(plans: Map<string, EntityPlan>, graph: ClosureGraph): ClosureSource {
    return new MysqlClosureSource(this.db, plans, graph, (plan) => this.columnTypes(plan.source.schema, plan.source.table));
  }

  async prefetch(requests: { plan: EntityPlan; keys: string[][] }[]): Promise<Row[][]> {
    const out: Row[][] = [];
    for (const { plan, keys } of requests) {
      const rows: Row[] = [];
      for await (const row of this.reader(plan).byKeys(keys)) rows.push(row);
      out.push(rows);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.abandonedStream()) return;
    // A server that does not acknowledge the goodbye within CLOSE_WAIT_MS is frozen or gone.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    await Promise.race([this.db.connection.promise().end().catch(() => {}), late]);
    clearTimeout(timer);
    this.db.connection.destroy();
  }
}
