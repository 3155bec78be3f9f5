import type { ScanStage } from '../../store/scan-stage.js';
import { joinWithPairs } from '../key-join.js';
import { rowProblem, type Row, type Session, type Watermark } from '../connector.js';
import { CursorCeiling } from '../cursor-ceiling.js';
import { inBatches } from '../../util/batches.js';
import type { EntityPlan } from '../plan.js';
import { TwoWayBatches, type BatchRefs, type TwoWayContext, type TwoWayResult } from './batch.js';
import { contentHash, sideHash } from './archived-hash.js';
import { replayRedo } from './redo.js';
import { watermarkName } from './side.js';
import type { SideName } from './types.js';

/** One side's row in a Full scan: its encoded key and hash. */
interface KeyedHash {
  key: string;
  hash: string | null;
}

/**
 * Syncs one entity both ways (seed 002). Full compares every row of both systems with the pairs;
 * Incremental reads the rows past each side's watermark. Both hand the records worth a look to
 * TwoWayBatches, which decides and writes.
 */
export class TwoWayEntitySync {
  readonly batches: TwoWayBatches;

  constructor(
    readonly plan: EntityPlan,
    readonly ctx: TwoWayContext,
  ) {
    if (!plan.reverse) throw new Error(`entity ${plan.name} has no reverse plan: not a TwoWay flow`);
    this.batches = new TwoWayBatches(plan, ctx);
  }

  /** Replays the writes of batches a killed run left half-done. */
  async recover(): Promise<void> {
    const b = this.batches;
    const { replayed, createdAnew } = await replayRedo({
      tx: this.ctx.tx,
      redo: b.redo,
      pairs: b.pairs,
      sides: b.sides,
      tables: b.tables,
      clients: { source: this.ctx.sourceFetch, target: this.ctx.target },
      state: this.ctx.state,
    });
    if (replayed > 0) {
      b.notes.push(`replayed ${replayed} writes of an interrupted run`);
      this.ctx.logger.warn({ entity: this.plan.name, replayed }, 'replayed the writes of an interrupted two-way batch');
    }
    if (createdAnew > 0) {
      b.notes.push(`${createdAnew} creates of an interrupted run that never landed are made again under new keys`);
      this.ctx.logger.warn({ entity: this.plan.name, createdAnew }, 'an interrupted two-way batch left creates under drawn keys that never landed');
    }
  }

  async full(): Promise<TwoWayResult> {
    const started = Date.now();
    await this.recover();
    const b = this.batches;
    const ceilings = this.ceilings();
    // A newest row beyond the cursor ceiling leaves the watermark where it was (the next Incremental reads a little more).
    const within = (side: SideName, mark: Watermark | undefined) => (mark && ceilings[side].admits(mark.cursor, mark.key) ? mark : undefined);
    const marks = {
      source: within('source', await b.sides.source.newestCursor(this.ctx.sourceFetch)),
      target: within('target', await b.sides.target.newestCursor(this.ctx.target)),
    };
    await this.scan('source');
    await this.scan('target');
    await this.ctx.tx.unit(this.ctx.state, async () => {
      // Both sides were read in full: an unpaired record this run did not meet was paired or is gone.
      await b.unpaired.forgetUnseen(this.ctx.runId);
      for (const side of ['source', 'target'] as SideName[]) {
        const mark = marks[side];
        if (mark) await this.ctx.runState.writeWatermark(watermarkName(this.plan.name, side), mark);
      }
    });
    this.noteCeilings(ceilings);
    b.counters.durationMs += Date.now() - started;
    return b.result();
  }

  /**
   * Joins one side's `(key, hash)` stream with the pairs by key (merged as they stream, or in the
   * state DB when the side has no key order). Only rows whose hash moved, rows without a pair and
   * pairs without a row go on to a batch.
   */
  private async scan(side: SideName): Promise<void> {
    const b = this.batches;
    const stream = side === 'source' ? this.ctx.source : this.ctx.targetStream;
    const state = this.ctx.stateStream.client;
    const pairs = (stage?: ScanStage) => b.pairs.streamSide(state, side, stage);
    const hashes = { withArchived: true };
    const matches = joinWithPairs<KeyedHash>(
      {
        rows: this.keyedHashes(side, stream, hashes),
        ordered: stream.capabilities.orderedScan,
        key: (row) => row.key,
        toRow: (row) => [row.key, row.hash],
        fromRow: (row) => ({ key: row[0]!, hash: row[1] }),
      },
      { stream: pairs, key: (pair) => pair[0]! },
      state,
    );
    let keys: string[] = [];
    const flush = async () => {
      if (keys.length === 0) return;
      const refs: BatchRefs = side === 'source' ? { sourceKeys: keys, targetKeys: [] } : { sourceKeys: [], targetKeys: keys };
      keys = [];
      await b.process(refs);
    };

    // The target pass meets pairs the source pass counted as unchanged; those it flags are counted by outcome instead.
    let recount = 0;
    for await (const { left: rowKey, right: pair } of matches) {
      if (rowKey && pair) {
        const [, otherKey, hash, , category] = pair;
        if (side === 'target' && b.leftAlone.has(otherKey!)) {
          // Already looked at by the source pass.
        } else if (category === 'deactivated') {
          if (side === 'source') b.counters.skipped++;
        } else if (rowKey.hash !== (hashes.withArchived ? hash : contentHash(hash)) || category === 'deleted') {
          keys.push(rowKey.key);
          if (side === 'target') recount++;
        } else if (side === 'source') b.counters.unchanged++;
      } else if (rowKey) {
        keys.push(rowKey.key);
      } else if (pair![4] !== 'deactivated' && !(side === 'target' && b.leftAlone.has(pair![1]!))) {
        keys.push(pair![0]!);
      }
      if (keys.length >= this.ctx.batchSize) await flush();
    }
    await flush();
    b.counters.unchanged = Math.max(0, b.counters.unchanged - recount);
  }

  /**
   * One side's `(key, hash)` rows with their keys encoded, an archived row's hash marked as
   * `Side.parse` marks it; a row with a null key is rejected here. `flags.withArchived` turns false
   * when the connector's stream leaves the archived flag out: stored hashes are then compared unmarked.
   */
  private async *keyedHashes(side: SideName, stream: Session, flags: { withArchived: boolean }): AsyncGenerator<KeyedHash> {
    const b = this.batches;
    const width = b.sides[side].keys.length;
    for await (const row of b.sides[side].streamHashes(stream)) {
      const key = b.sides[side].codec.encode((row as Row).slice(0, width));
      const [hash, archived] = [(row as Row)[width] ?? null, (row as Row)[width + 1]];
      if (archived === undefined) flags.withArchived = false;
      if (key === undefined) b.rejectRow(null, rowProblem(row)?.reason ?? `${side} key ${b.sides[side].keys.join(', ')} is null`);
      else yield { key, hash: hash === null ? null : sideHash(hash, archived === 't') };
    }
  }

  /** Each side's cursor ceiling: now plus the flow's cursor tolerance. */
  private ceilings(): Record<SideName, CursorCeiling> {
    const tolerance = this.plan.cursorToleranceSeconds;
    return { source: new CursorCeiling(this.batches.sides.source.updatedAt, tolerance), target: new CursorCeiling(this.batches.sides.target.updatedAt, tolerance) };
  }

  private noteCeilings(ceilings: Record<SideName, CursorCeiling>): void {
    for (const side of ['source', 'target'] as SideName[]) {
      const note = ceilings[side].note();
      if (note) this.batches.notes.push(`${side}: ${note}`);
    }
  }

  /** Target keys whose pair the source pass of this run did not already decide and leave alone (a conflict counts once). */
  private async notDecidedYet(targetKeys: string[]): Promise<string[]> {
    const b = this.batches;
    if (b.leftAlone.size === 0) return targetKeys;
    const paired = await b.pairs.byTargetKeys(targetKeys);
    return targetKeys.filter((k) => !b.leftAlone.has(paired.get(k)?.sourceKey ?? ''));
  }

  /**
   * Changes held back by the loop-protection window are past the watermark already: once their
   * window has passed, they are picked up from the pairs that remember them.
   */
  private async releaseHeld(): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const due = await this.batches.pairs.heldDue(this.ctx.batchSize, after);
      if (due.length === 0) return;
      await this.batches.process({ sourceKeys: due, targetKeys: [] });
      after = due[due.length - 1];
    }
  }

  /**
   * Record mode: decides and writes only these records (plain key parts per side) and their
   * partners, through the same batches as Full; watermarks stay where they are.
   */
  async syncKeys(sourceKeys: string[][], _prefetched?: unknown, targetKeys: string[][] = []): Promise<TwoWayResult> {
    const started = Date.now();
    await this.recover();
    const b = this.batches;
    const encode = (side: SideName, keys: string[][]) => keys.map((parts) => b.sides[side].codec.encode(parts)).filter((k): k is string => k !== undefined);
    const sources = encode('source', sourceKeys);
    for (let i = 0; i < sources.length; i += this.ctx.batchSize) await b.process({ sourceKeys: sources.slice(i, i + this.ctx.batchSize), targetKeys: [] });
    const seen = new Set(sources);
    const targets = encode('target', targetKeys);
    for (let i = 0; i < targets.length; i += this.ctx.batchSize) {
      const chunk = targets.slice(i, i + this.ctx.batchSize);
      // Target rows paired with a source row of the closure were decided with it already.
      const paired = await b.pairs.byTargetKeys(chunk);
      const rest = chunk.filter((k) => !seen.has(paired.get(k)?.sourceKey ?? ''));
      if (rest.length > 0) await b.process({ sourceKeys: [], targetKeys: rest });
    }
    b.counters.durationMs += Date.now() - started;
    return b.result();
  }

  async incremental(): Promise<TwoWayResult> {
    const b = this.batches;
    if (!b.sides.source.updatedAt || !b.sides.target.updatedAt) {
      b.notes.push('no updatedAt cursor on both sides: compared in full');
      return this.full();
    }
    const started = Date.now();
    await this.recover();
    const ceilings = this.ceilings();
    for (const side of ['source', 'target'] as SideName[]) {
      const name = watermarkName(this.plan.name, side);
      const watermark = await this.ctx.runState.readWatermark(name);
      const stream = side === 'source' ? this.ctx.source : this.ctx.targetStream;
      for await (const batch of inBatches(b.sides[side].streamChanged(stream, watermark), this.ctx.batchSize)) {
        const rows = batch.map((r) => b.sides[side].parse(r));
        // Rows come in (cursor, key) order: the watermark moves to the last one within the cursor ceiling, if any.
        const within = rows.filter((r) => ceilings[side].admits(r.cursor, r.keyParts));
        const last = within[within.length - 1];
        const advance = async () => {
          if (last) await this.ctx.runState.writeWatermark(name, { cursor: last.cursor!, key: last.keyParts });
        };
        const keys = side === 'source' ? rows.map((r) => r.key) : await this.notDecidedYet(rows.map((r) => r.key));
        if (keys.length === 0) {
          await this.ctx.tx.unit(this.ctx.state, advance);
          continue;
        }
        const refs: BatchRefs = side === 'source' ? { sourceKeys: keys, targetKeys: [], moved: true } : { sourceKeys: [], targetKeys: keys, moved: true };
        await b.process(refs, advance);
      }
    }
    await this.releaseHeld();
    this.noteCeilings(ceilings);
    b.counters.durationMs += Date.now() - started;
    return b.result();
  }
}
