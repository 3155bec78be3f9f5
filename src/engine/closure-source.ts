import type pg from 'pg';
import { ident, qualified } from '../util/sql.js';
import { ConfigError } from '../util/errors.js';
import { referenceColumns, type ChildLink, type ClosureGraph } from './closure-plan.js';
import type { ClosureRow, ClosureSource } from './closure.js';
import type { EntityPlan } from './plan.js';

/** Values per query: keeps statements bounded for a record with very many children. */
const CHUNK = 10_000;

/**
 * Reads closure rows from the source database with key-set queries (`= ANY(array)`, so PostgreSQL
 * uses the key and parent-column indexes), returning only keys and lookup columns as text.
 */
export class PostgresClosureSource implements ClosureSource {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly plans: Map<string, EntityPlan>,
    private readonly graph: ClosureGraph,
  ) {}

  private plan(entity: string): EntityPlan {
    const plan = this.plans.get(entity);
    if (!plan) throw new ConfigError(`unknown entity "${entity}"`);
    return plan;
  }

  private selectList(plan: EntityPlan): { sql: string; refs: string[] } {
    const refs = referenceColumns(this.graph, plan.name);
    const columns = [...plan.source.keys, ...refs].map((c) => `${ident(c)}::text`);
    return { sql: columns.join(', '), refs };
  }

  private toRows(plan: EntityPlan, refs: string[], rows: (string | null)[][]): ClosureRow[] {
    const width = plan.source.keys.length;
    return rows.map((row) => ({
      key: row.slice(0, width) as string[],
      refs: Object.fromEntries(refs.map((column, i) => [column, row[width + i]])),
    }));
  }

  async byKeys(entity: string, keys: string[][]): Promise<ClosureRow[]> {
    const plan = this.plan(entity);
    const { sql, refs } = this.selectList(plan);
    const table = qualified(plan.source.schema, plan.source.table);
    const out: ClosureRow[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const types = plan.source.keyTypes;
      const where =
        types.length === 1
          ? `${ident(plan.source.keys[0])} = ANY($1::${types[0]}[])`
          : `(${plan.source.keys.map(ident).join(', ')}) IN (SELECT * FROM unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')}))`;
      const values = types.map((_, k) => chunk.map((key) => key[k]));
      const result = await this.client.query({ text: `SELECT ${sql} FROM ${table} WHERE ${where}`, values, rowMode: 'array' });
      out.push(...this.toRows(plan, refs, result.rows));
    }
    return out;
  }

  async byColumn(link: ChildLink, values: string[]): Promise<ClosureRow[]> {
    const plan = this.plan(link.child);
    const parentType = this.plan(link.parent).source.keyTypes[0];
    const { sql, refs } = this.selectList(plan);
    const table = qualified(plan.source.schema, plan.source.table);
    const out: ClosureRow[] = [];
    for (let i = 0; i < values.length; i += CHUNK) {
      const result = await this.client.query({
        text: `SELECT ${sql} FROM ${table} WHERE ${ident(link.column)} = ANY($1::${parentType}[])`,
        values: [values.slice(i, i + CHUNK)],
        rowMode: 'array',
      });
      out.push(...this.toRows(plan, refs, result.rows));
    }
    return out;
  }
}
