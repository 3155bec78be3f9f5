import type { ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureSource } from '../../engine/closure.js';
import type { ColumnInfo, ConnectorCapabilities, Row, Session, SideReader, SideSpec, TableInfo, TableReader, TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import { WithoutUnitOfWork } from '../no-unit-of-work.js';
import type { HttpClient } from './client.js';
import { HttpClosureSource } from './closure.js';
import { HttpReader, type ReadMemory } from './reader.js';
import { HttpSideReader } from './side-reader.js';
import type { ResolvedResource } from './resource.js';
import { HttpWriter, type WriteMemory } from './writer.js';

export const HTTP_CAPABILITIES: ConnectorCapabilities = {
  // Lists come in the API's order; the engine stages keys and hashes in the state DB and joins there.
  orderedScan: false,
  transactions: false,
  sharedSnapshot: false,
  generatedKeys: 'returned',
  changeFeed: 'poll',
  // An API hands out the key of a new record; a deleted one cannot be written back under its old key.
  newKeyOnRecreate: true,
  // A POST cannot be rolled back: the engine records each create's intent (and idempotency key) first.
  createIntents: true,
};

const SQL_TYPE: Record<string, string> = { integer: 'bigint', number: 'numeric', boolean: 'boolean', timestamp: 'timestamptz', date: 'date', json: 'jsonb', string: 'text' };

function tableInfo(resource: ResolvedResource): TableInfo {
  const columns = new Map<string, ColumnInfo>();
  for (const field of resource.fields.values()) {
    columns.set(field.name, {
      name: field.name,
      sqlType: field.type,
      // The engine reads key kinds (integer or text) from the base type name.
      typeName: SQL_TYPE[field.type],
      notNull: false,
      generated: field.readOnly,
      defaultExpr: field.readOnly ? 'assigned by the API' : null,
      identity: '',
    });
  }
  return { schema: '', table: resource.name, columns };
}

/**
 * One "connection" to an API: the shared HTTP client plus what reads and writes of this session
 * remember (the newest cursor a list saw, match indexes, dry-run state). There is no unit of work
 * (WithoutUnitOfWork); a dry run simulates its writes instead (`simulateWrites`).
 */
export class HttpSession extends WithoutUnitOfWork implements Session {
  readonly capabilities = HTTP_CAPABILITIES;
  private simulated = false;
  private simulatedKeys = 0;
  private readonly reads = new Map<string, ReadMemory>();
  private readonly writes = new Map<string, WriteMemory>();

  constructor(
    private readonly client: HttpClient,
    private readonly resources: Map<string, ResolvedResource>,
    private readonly notes: { clientSideFilter(resource: string): void },
  ) {
    super();
  }

  private resource(table: string): ResolvedResource {
    const found = this.resources.get(table);
    if (!found) throw new ConfigError(`no API resource is described for "${table}"`);
    return found;
  }

  async readCatalog(_namespace: string, tables: string[]): Promise<Map<string, TableInfo>> {
    return new Map(tables.flatMap((t) => (this.resources.has(t) ? [[t, tableInfo(this.resources.get(t)!)] as const] : [])));
  }

  simulateWrites(): void {
    this.simulated = true;
    for (const memory of this.writes.values()) memory.simulated = true;
  }

  private readMemory(table: string): ReadMemory {
    let memory = this.reads.get(table);
    if (!memory) {
      memory = { noteClientSideFilter: (name) => this.notes.clientSideFilter(name) };
      this.reads.set(table, memory);
    }
    return memory;
  }

  private writeMemory(table: string): WriteMemory {
    let memory = this.writes.get(table);
    if (!memory) {
      // Invented keys of a dry run's creates: negative, so they can never name a real record.
      memory = { simulated: this.simulated, nextSimulatedKey: () => String(-++this.simulatedKeys) };
      this.writes.set(table, memory);
    }
    return memory;
  }

  reader(plan: EntityPlan): TableReader {
    return new HttpReader(this.client, plan, this.resource(plan.source.table), this.readMemory(plan.source.table));
  }

  writer(plan: EntityPlan): TableWriter {
    return new HttpWriter(this.client, plan, this.resource(plan.target.table), this.writeMemory(plan.target.table));
  }

  sideReader(side: SideSpec): SideReader {
    return new HttpSideReader(this.client, side, this.resource(side.reader.source.table));
  }

  closureSource(plans: Map<string, EntityPlan>, graph: ClosureGraph): ClosureSource {
    return new HttpClosureSource(this.client, plans, graph, (table) => this.resource(table));
  }

  async prefetch(requests: { plan: EntityPlan; keys: string[][] }[]): Promise<Row[][]> {
    return Promise.all(
      requests.map(async ({ plan, keys }) => {
        const rows: Row[] = [];
        for await (const row of this.reader(plan).byKeys(keys)) rows.push(row);
        return rows;
      }),
    );
  }

  async close(): Promise<void> {}
}
