import { sharedTargetRows, targetTableShared, type SharedTargetRow } from '../../store/flow-targets.js';
import type { EntityPlan } from '../plan.js';
import type { EntitySyncContext } from './context.js';
import type { WriteItem } from './source-records.js';
import type { EntityTally } from './tally.js';

const KEYS_NAMED = 5;

/**
 * Target rows another flow (or another entity of this flow) links too: two flows writing one row
 * overwrite each other's values on every run. Before a batch writes, its target keys are looked up
 * among the pairs of every other flow entity on the same target table (ferry.flow_targets); each is
 * named in the entity's notes (Warn) or rejected with the reason (Refuse). When no other flow writes
 * the table, the batch asks nothing.
 */
export class SharedTargets {
  private shared: Promise<boolean> | undefined;
  private readonly found = new Map<string, { rows: number; keys: string[] }>();

  constructor(
    private readonly plan: EntityPlan,
    private readonly ctx: Pick<EntitySyncContext, 'flow' | 'state'>,
    private readonly tally: EntityTally,
  ) {}

  /** The items to write: all of them, less the ones whose target row another flow links when the flow refuses those. */
  async screen(items: WriteItem[]): Promise<WriteItem[]> {
    this.shared ??= targetTableShared(this.ctx.state.client, this.ctx.flow, this.plan.name);
    if (!(await this.shared)) return items;
    const codec = this.plan.target.codec;
    const byKey = new Map<string, WriteItem>();
    for (const item of items) if (item.targetKey) byKey.set(codec.encode(item.targetKey)!, item);
    const rows = await sharedTargetRows(this.ctx.state.client, this.ctx.flow, this.plan.name, [...byKey.keys()]);
    if (rows.length === 0) return items;
    const refusing = this.plan.sharedTargetRows === 'Refuse';
    const refused = new Set<WriteItem>();
    for (const [targetKey, owners] of groupByKey(rows)) {
      const item = byKey.get(targetKey)!;
      const key = codec.decode(targetKey).join(', ');
      const label = [...new Set(owners.map((o) => this.ownerLabel(o)))].join(', ');
      const entry = this.found.get(label) ?? { rows: 0, keys: [] };
      entry.rows++;
      if (entry.keys.length < KEYS_NAMED) entry.keys.push(key);
      this.found.set(label, entry);
      if (refusing) {
        this.tally.reject(item.record.key ?? null, `target row ${key} is also linked by ${label} (spec.sharedTargetRows: Refuse)`);
        refused.add(item);
      }
    }
    return refused.size ? items.filter((item) => !refused.has(item)) : items;
  }

  /** Adds what was found since the last call to the entity's notes. */
  flushNotes(): void {
    const action = this.plan.sharedTargetRows === 'Refuse' ? 'refused (spec.sharedTargetRows: Refuse)' : 'written; the flows overwrite each other there on every run';
    for (const [label, { rows, keys }] of this.found) {
      const more = rows > keys.length ? ` and ${rows - keys.length} more` : '';
      this.tally.notes.push(`${rows} target ${rows === 1 ? 'row is' : 'rows are'} also linked by ${label} (keys ${keys.join('; ')}${more}): ${action}`);
    }
    this.found.clear();
  }

  /** Another namespace's flows are never named: the report goes to this flow's namespace. */
  private ownerLabel(owner: SharedTargetRow): string {
    if (!owner.flow) return 'a flow in another namespace';
    if (owner.flow === this.ctx.flow) return `entity ${owner.entity} of this flow`;
    return owner.entity === this.plan.name ? `flow ${owner.flow}` : `flow ${owner.flow} (entity ${owner.entity})`;
  }
}

function groupByKey(rows: SharedTargetRow[]): Map<string, SharedTargetRow[]> {
  const groups = new Map<string, SharedTargetRow[]>();
  for (const row of rows) groups.set(row.targetKey, [...(groups.get(row.targetKey) ?? []), row]);
  return groups;
}
