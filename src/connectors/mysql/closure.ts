import { referenceColumns, type ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureRequest, ClosureRow, ClosureSource } from '../../engine/closure.js';
import type { EntityPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import type { Db } from './db.js';
import { column, typedColumn, text, type ColumnTypes } from './expressions.js';
import { keyChunks, valuesFilter } from './key-filter.js';
import { joinSql, qualified, sql } from './sql.js';

const ALIAS = 'c';

/**
 * Reads Record-mode closures: keys and lookup columns only, as text, with the exact key filters of
 * the reader (an indexable comparison, then the bytes).
 */
export class MysqlClosureSource implements ClosureSource {
  constructor(
    private readonly db: Db,
    private readonly plans: Map<string, EntityPlan>,
    private readonly graph: ClosureGraph,
    private readonly columnTypes: (plan: EntityPlan) => Promise<ColumnTypes>,
  ) {}

  private plan(entity: string): EntityPlan {
    const plan = this.plans.get(entity);
    if (!plan) throw new ConfigError(`unknown entity "${entity}"`);
    return plan;
  }

  private async rows(plan: EntityPlan, filter: ReturnType<typeof valuesFilter>): Promise<ClosureRow[]> {
    const types = await this.columnTypes(plan);
    const refs = referenceColumns(this.graph, plan.name);
    const keys = plan.source.keys.map((k, i) => text(typedColumn(ALIAS, k, plan.source.keyTypes[i])));
    const columns = [...keys, ...refs.map((r) => text(column(ALIAS, r, types)))];
    const from = sql(`SELECT ${columns.join(', ')} FROM ${qualified(plan.source.schema, plan.source.table)} AS ${ALIAS} WHERE `);
    const width = keys.length;
    return (await this.db.rows(joinSql([from, filter], ''))).map((row) => ({
      key: row.slice(0, width).map((v) => v ?? ''),
      refs: Object.fromEntries(refs.map((r, i) => [r, row[width + i]])),
    }));
  }

  private async readOne(request: ClosureRequest): Promise<ClosureRow[]> {
    const out: ClosureRow[] = [];
    if (request.kind === 'keys') {
      const plan = this.plan(request.entity);
      const keys = plan.source.keys.map((k, i) => typedColumn(ALIAS, k, plan.source.keyTypes[i]));
      for (const chunk of keyChunks(request.keys)) out.push(...(await this.rows(plan, valuesFilter(keys, plan.source.keyKinds, chunk))));
      return out;
    }
    const plan = this.plan(request.link.child);
    const parent = this.plan(request.link.parent);
    const link = column(ALIAS, request.link.column, await this.columnTypes(plan));
    for (const chunk of keyChunks(request.values.map((v) => [v]))) {
      out.push(...(await this.rows(plan, valuesFilter([link], [parent.source.keyKinds[0]], chunk))));
    }
    return out;
  }

  async read(requests: ClosureRequest[]): Promise<ClosureRow[][]> {
    const out: ClosureRow[][] = [];
    for (const request of requests) out.push(await this.readOne(request));
    return out;
  }
}
