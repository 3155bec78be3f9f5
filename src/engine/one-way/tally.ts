import { emptyCounters } from '../../store/run-state.js';
import { recoveredCreatesNote } from '../create-intents.js';
import type { EntityPlan } from '../plan.js';
import type { EntityResult, EntitySyncContext, RejectedSample } from './context.js';

/** One entity's counters, notes and a bounded sample of rejected rows, as the run report shows them. */
export class EntityTally {
  readonly counters = emptyCounters();
  readonly rejected: RejectedSample[] = [];
  readonly notes: string[] = [];
  /** Creates an earlier attempt may have applied, completed without a second record. */
  recoveredCreates = 0;

  constructor(
    private readonly plan: EntityPlan,
    private readonly ctx: Pick<EntitySyncContext, 'rejectSampleLimit' | 'onProgress'>,
  ) {}

  /** Counts a rejected row; the first `rejectSampleLimit` are kept with their (decoded) source key. */
  reject(sourceKey: string | null, reason: string): void {
    this.counters.rejected++;
    if (this.rejected.length < this.ctx.rejectSampleLimit) {
      const key = sourceKey === null ? null : this.plan.source.codec.decode(sourceKey).join(', ');
      this.rejected.push({ entity: this.plan.name, key, reason });
    }
  }

  /** Pairs this pass created, changed or removed (what makes the pairs' planner statistics stale). */
  pairsWritten(): number {
    const { created, updated, archived, deleted } = this.counters;
    return created + updated + archived + deleted;
  }

  reportProgress(): void {
    this.ctx.onProgress?.(this.plan.name, this.counters);
  }

  result(): EntityResult {
    const notes = this.recoveredCreates > 0 ? [...this.notes, recoveredCreatesNote(this.recoveredCreates)] : this.notes;
    return { counters: this.counters, rejected: this.rejected, notes, ...(this.recoveredCreates > 0 ? { recoveredCreates: this.recoveredCreates } : {}) };
  }
}
