import { referenceColumns, type ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureRequest, ClosureRow, ClosureSource } from '../../engine/closure.js';
import type { EntityPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import { listRecords } from './pagination.js';
import { fieldOf, readField } from './records.js';
import { isNotFound, type Requester } from './requester.js';
import { fillPath, type ResolvedResource } from './resource.js';

/**
 * Reads Record-mode closures from an API: records by key through the get endpoint, children by
 * listing their resource and keeping those whose link field holds one of the parent keys.
 */
export class HttpClosureSource implements ClosureSource {
  constructor(
    private readonly client: Requester,
    private readonly plans: Map<string, EntityPlan>,
    private readonly graph: ClosureGraph,
    private readonly resourceOf: (table: string) => ResolvedResource,
  ) {}

  private plan(entity: string): EntityPlan {
    const plan = this.plans.get(entity);
    if (!plan) throw new ConfigError(`unknown entity "${entity}"`);
    return plan;
  }

  private closureRow(plan: EntityPlan, record: unknown): ClosureRow {
    const resource = this.resourceOf(plan.source.table);
    return {
      key: plan.source.keys.map((k) => readField(record, fieldOf(resource, k)) ?? ''),
      refs: Object.fromEntries(referenceColumns(this.graph, plan.name).map((r) => [r, readField(record, fieldOf(resource, r))])),
    };
  }

  private async byKey(plan: EntityPlan, key: string[]): Promise<ClosureRow[]> {
    const resource = this.resourceOf(plan.source.table);
    if (!resource.get) throw new ConfigError(`resource "${resource.name}" needs a get endpoint (resource.get) for Record runs`);
    try {
      const response = await this.client.request({ method: 'GET', path: fillPath(resource.get.path, key), query: Object.fromEntries(resource.get.query) });
      return [this.closureRow(plan, response.body)];
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  private async readOne(request: ClosureRequest): Promise<ClosureRow[]> {
    if (request.kind === 'keys') {
      const plan = this.plan(request.entity);
      return (await Promise.all(request.keys.map((key) => this.byKey(plan, key)))).flat();
    }
    const plan = this.plan(request.link.child);
    const resource = this.resourceOf(plan.source.table);
    const link = fieldOf(resource, request.link.column);
    const wanted = new Set(request.values);
    const out: ClosureRow[] = [];
    for await (const page of listRecords(this.client, resource.list, resource.sort)) {
      for (const record of page) {
        const value = readField(record, link);
        if (value !== null && wanted.has(value)) out.push(this.closureRow(plan, record));
      }
    }
    return out;
  }

  async read(requests: ClosureRequest[]): Promise<ClosureRow[][]> {
    return Promise.all(requests.map((r) => this.readOne(r)));
  }
}
