import type pg from 'pg';
import { ident, literal, qualified } from '../../util/sql.js';
import { ConfigError } from '../../util/errors.js';
import { referenceColumns, type ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureRequest, ClosureRow, ClosureSource } from '../../engine/closure.js';
import type { EntityPlan } from '../../engine/plan.js';

/** Values per statement: keeps statements bounded for a record with very many children. */
const CHUNK = 5_000;

/**
 * Reads closure rows from the source database with key-set queries (`= ANY(array)`, so PostgreSQL
 * uses the key and parent-column indexes), returning only keys and lookup columns as text. All
 * reads of a round go to the server as one multi-statement query: one round trip per round.
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

  private select(plan: EntityPlan, where: string): string {
    const columns = [...plan.source.keys, ...referenceColumns(this.graph, plan.name)].map((c, i) => `${ident(c)}::text AS c${i}`);
    return `SELECT ${columns.join(', ')} FROM ${qualified(plan.source.schema, plan.source.table)} WHERE ${where}`;
  }

  private statements(request: ClosureRequest): { plan: EntityPlan; sql: string[] } {
    const sql: string[] = [];
    if (request.kind === 'keys') {
      const plan = this.plan(request.entity);
      const types = plan.source.keyTypes;
      for (let i = 0; i < request.keys.length; i += CHUNK) {
        const chunk = request.keys.slice(i, i + CHUNK);
        const arrays = types.map((type, k) => `ARRAY[${chunk.map((key) => literal(key[k])).join(', ')}]::${type}[]`);
        const where =
          types.length === 1
            ? `${ident(plan.source.keys[0])} = ANY(${arrays[0]})`
            : `(${plan.source.keys.map(ident).join(', ')}) IN (SELECT * FROM unnest(${arrays.join(', ')}))`;
        sql.push(this.select(plan, where));
      }
      return { plan, sql };
    }
    const plan = this.plan(request.link.child);
    const parentType = this.plan(request.link.parent).source.keyTypes[0];
    for (let i = 0; i < request.values.length; i += CHUNK) {
      const values = request.values.slice(i, i + CHUNK).map(literal).join(', ');
      sql.push(this.select(plan, `${ident(request.link.column)} = ANY(ARRAY[${values}]::${parentType}[])`));
    }
    return { plan, sql };
  }

  async read(requests: ClosureRequest[]): Promise<ClosureRow[][]> {
    const planned = requests.map((r) => this.statements(r));
    const all = planned.flatMap((p) => p.sql);
    if (all.length === 0) return requests.map(() => []);
    const raw = await this.client.query(all.join(';\n'));
    // One statement gives one result, several give an array of results.
    const results = (Array.isArray(raw) ? raw : [raw]) as pg.QueryResult[];
    let next = 0;
    return planned.map(({ plan, sql }) => {
      const refs = referenceColumns(this.graph, plan.name);
      const width = plan.source.keys.length;
      const rows: ClosureRow[] = [];
      for (let s = 0; s < sql.length; s++) {
        for (const row of results[next++].rows as Record<string, string | null>[]) {
          rows.push({
            key: plan.source.keys.map((_, i) => row[`c${i}`] as string),
            refs: Object.fromEntries(refs.map((column, i) => [column, row[`c${width + i}`]])),
          });
        }
      }
      return rows;
    });
  }
}
