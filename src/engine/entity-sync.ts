import type { PrefetchedRows } from './record-prefetch.js';
import type { EntityPlan } from './plan.js';
import type { EntityResult, EntitySyncContext } from './one-way/context.js';
import { fullPass } from './one-way/full-pass.js';
import { incrementalPass } from './one-way/incremental-pass.js';
import { keysPass } from './one-way/keys-pass.js';
import { EntityParts } from './one-way/parts.js';
import { deleteVanished } from './one-way/vanished.js';
import type { CategoryCounts } from './two-way/types.js';

export type { EntityResult, EntitySyncContext, RejectedSample } from './one-way/context.js';

/**
 * Syncs one entity from source to target (one-way). Each mode is a pass in src/engine/one-way/;
 * they share the batch writer, the classification of a row against its pair, and the tally.
 */
export class EntitySync {
  private readonly parts: EntityParts;

  constructor(plan: EntityPlan, ctx: EntitySyncContext) {
    this.parts = new EntityParts(plan, ctx);
  }

  async full(): Promise<EntityResult> {
    if (this.parts.reader.changesOnly) {
      this.parts.tally.notes.push('the source holds changes only (delta files): read as Incremental, absent records are not gone');
      return this.timed(() => incrementalPass(this.parts));
    }
    return this.timed(() => fullPass(this.parts));
  }

  async incremental(): Promise<EntityResult> {
    if (!this.parts.plan.source.updatedAt) {
      this.parts.tally.notes.push('no source.updatedAt cursor: compared in full');
      return this.full();
    }
    if (this.parts.reader.incrementalNote) this.parts.tally.notes.push(this.parts.reader.incrementalNote);
    return this.timed(() => incrementalPass(this.parts));
  }

  async syncKeys(keys: string[][], prefetched?: PrefetchedRows): Promise<EntityResult> {
    return this.timed(() => keysPass(this.parts, keys, prefetched));
  }

  /** Its Incremental reads may report deletions (delta files' markers), which deleteVanished then applies. */
  get marksDeletions(): boolean {
    return this.parts.reader.marksDeletions === true;
  }

  /** The entity's pairs by category after the run, when it knows them exactly (see PairLedger). */
  get knownPairCounts(): CategoryCounts | undefined {
    return this.parts.pairLedger.counts();
  }

  /** Deletes target rows whose source vanished; runs after all upserts, children before parents. */
  async deleteVanished(): Promise<EntityResult> {
    if (!this.parts.plan.actions.has('deleteInTarget')) return this.parts.tally.result();
    return this.timed(() => deleteVanished(this.parts));
  }

  private async timed(pass: () => Promise<void>): Promise<EntityResult> {
    const started = Date.now();
    await pass();
    this.parts.tally.counters.durationMs += Date.now() - started;
    this.parts.sharedTargets.flushNotes();
    this.parts.tally.reportProgress();
    return this.parts.tally.result();
  }
}
