import { CreateIntents } from '../../store/create-intents.js';
import { PairStore } from '../../store/pairs.js';
import type { TableReader, TableWriter } from '../connector.js';
import { CursorCeiling } from '../cursor-ceiling.js';
import type { EntityPlan } from '../plan.js';
import type { EntitySyncContext } from './context.js';
import { DrawnKeys } from './drawn-keys.js';
import { PairLedger } from './pair-ledger.js';
import { SharedTargets } from './shared-targets.js';
import { FreshRecordPool } from './source-records.js';
import { EntityTally } from './tally.js';

/** What every piece of a one-way entity pass works with: the plan, the lane, the tables and the pairs. */
export class EntityParts {
  readonly tally: EntityTally;
  readonly target: TableWriter;
  /** Streams the source (Full scan, Incremental). */
  readonly reader: TableReader;
  /** Reads rows by key, in the scan's snapshot. */
  readonly fetcher: TableReader;
  readonly pairs: PairStore;
  /** The entity's pairs by category, when the run knows them exactly (see PairLedger). */
  readonly pairLedger = new PairLedger();
  /** Creates recorded before they are sent, on a target that cannot roll a create back (capability `createIntents`). */
  readonly intents?: CreateIntents;
  /** The latest cursor that may move the watermark; rows beyond it are synced and reported. */
  readonly ceiling: CursorCeiling;
  /** Target rows another flow links too (spec.sharedTargetRows). */
  readonly sharedTargets: SharedTargets;
  /** New target keys, some drawn ahead by the previous batch. */
  readonly drawnKeys: DrawnKeys;
  /** The FreshRecords of written batches, for the rows read next (a first import's, see grouped-batches.ts). */
  readonly freshRecords: FreshRecordPool;
  /** New rows may link to existing target rows by the match keys (set by `prepare`). */
  matching = false;
  /** No pair of the entity is marked gone (a Full pass that began without pairs; set by it). */
  noneGone = false;

  constructor(
    readonly plan: EntityPlan,
    readonly ctx: EntitySyncContext,
  ) {
    this.tally = new EntityTally(plan, ctx);
    this.ceiling = new CursorCeiling(plan.source.updatedAt, plan.cursorToleranceSeconds);
    this.target = ctx.target.writer(plan);
    this.reader = ctx.source.reader(plan);
    this.fetcher = ctx.sourceFetch.reader(plan);
    this.drawnKeys = new DrawnKeys(this.target);
    // About the records of the batches in flight and the one being filled.
    this.freshRecords = new FreshRecordPool(4 * ctx.batchSize);
    this.pairs = this.pairLedger.watch(new PairStore(ctx.state.client, ctx.flow, plan.name));
    if (ctx.target.capabilities.createIntents) this.intents = new CreateIntents(ctx.state.client, ctx.flow, plan.name, 'target', ctx.runId);
    this.sharedTargets = new SharedTargets(plan, ctx, this.tally);
  }

  async prepare(): Promise<void> {
    this.matching = this.plan.actions.has('link') && this.plan.match.length > 0 && !(await this.target.isEmpty());
  }
}
