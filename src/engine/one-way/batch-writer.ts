import type { NewPairSources, PairWrite } from '../../store/pairs.js';
import { failpoint } from '../../util/failpoint.js';
import type { FreshBatch, RowRejection, StageRow } from '../connector.js';
import { restoreValues } from './fresh-batches.js';
import { writeGroupedBatch, type TargetGroup } from './grouped-batches.js';
import { translateLookups } from './lookup-values.js';
import type { EntityParts } from './parts.js';
import { hasTargetKey, type WriteItem } from './source-records.js';
import { assignTargetKeys, insertAwaitingKeys } from './target-keys.js';

type KeyedItem = WriteItem & { targetKey: string[] };

/**
 * What the batches of one pass hand on to each other. `open`: the inflight markers of batches whose
 * target commit needed nothing more of the state DB: the next batch's pairs transaction clears them
 * (`clearCarriedMarker` after the last), so a batch costs one state transaction instead of two. A
 * crash before that leaves the markers, and the recovery re-checks pairs that match their committed
 * rows: nothing becomes stale. `group` and `pairsDone`: see grouped-batches.ts.
 */
export interface MarkerCarry {
  open?: number[];
  group?: TargetGroup;
  /** The last pairs transaction of a grouped batch: the next pairs transaction starts after it. */
  pairsDone?: Promise<unknown>;
}

/** Waits until no grouped batch is writing: every pairs transaction and target commit done. */
export async function closeGroups(carry: MarkerCarry): Promise<void> {
  await carry.pairsDone;
  while (carry.group) await carry.group.committed;
}

export async function clearCarriedMarker(parts: EntityParts, carry: MarkerCarry): Promise<void> {
  await closeGroups(carry);
  const ids = carry.open;
  if (!ids?.length) return;
  await parts.ctx.tx.unit(parts.ctx.state, () => parts.ctx.runState.endInflight(ids));
  carry.open = undefined;
}

/**
 * Writes one batch so that a crash at any point is recoverable: pairs (with the hashes the rows
 * will have) and an inflight marker commit first, then the target, then the marker is cleared
 * together with the watermark (`afterCommit`), or with the next batch's pairs (`carry`). Recovery
 * re-checks marked pairs against the target.
 */
export async function writeBatch(
  parts: EntityParts,
  items: WriteItem[],
  afterCommit?: () => Promise<void>,
  carry?: MarkerCarry,
  prepared?: FreshBatch,
  preparedPairs?: NewPairSources,
): Promise<void> {
  const { plan, ctx, tally } = parts;
  const { tx, state, target } = ctx;
  const translated = await translateLookups(parts, items);
  await assignTargetKeys(parts, translated);
  const live = await parts.sharedTargets.screen(translated);

  if (!live.some((item) => item.awaitsKey || hasTargetKey(item))) {
    if (afterCommit) await tx.unit(state, afterCommit);
    tally.reportProgress();
    return;
  }
  if (carry && !afterCommit && !tx.dryRun && live.every((item) => !item.awaitsKey && (!hasTargetKey(item) || isFreshItem(parts, item)))) {
    await writeGroupedBatch(parts, live, carry, prepared, preparedPairs);
    return;
  }
  // `prepared`: the values of the batch's rows went into it (see fresh-batches.ts); this way writes values.
  // (Their hashes and cursors are read back from `preparedPairs`, which this way does not hand back: it is let go with the batch.)
  restoreValues(live, prepared);
  if (carry) await closeGroups(carry);

  // BEGIN and the transaction's token (capability transactionOutcome) in one round trip: the marker of the batch's new pairs names it.
  const transaction = await tx.beginTracked(target);
  try {
    const hashes = await insertAwaitingKeys(parts, live);
    failpoint('batch:created');
    const stageRows: StageRow[] = [];
    const bySeq = new Map<number, KeyedItem>();
    live.forEach((item, seq) => {
      if (!item.targetKey) return;
      if (!hashes.has(seq)) stageRows.push({ seq, key: item.targetKey, values: item.record.values!.slice(plan.keyFields.length) });
      bySeq.set(seq, item as KeyedItem);
    });
    const isFresh = (row: StageRow) => isFreshItem(parts, bySeq.get(row.seq)!);
    const freshRows = stageRows.filter(isFresh);
    const copied = await parts.target.copyFresh({ keys: freshRows.map((row) => row.key), values: freshRows.map((row) => row.values) });
    if (copied) {
      copied.forEach((hash, i) => hashes.set(freshRows[i]!.seq, hash));
    }
    const slowRows = copied ? stageRows.filter((row) => !isFresh(row)) : stageRows;
    const castRejections: RowRejection[] = [];
    if (slowRows.length > 0) {
      await parts.target.stageRows(slowRows, castRejections);
      for (const [seq, hash] of await parts.target.expectedHashes()) hashes.set(seq, hash);
    }
    for (const rejection of castRejections) {
      tally.reject(bySeq.get(rejection.seq)!.record.key!, rejection.reason);
      bySeq.delete(rejection.seq);
    }

    const fresh: PairWrite[] = [];
    const known: PairWrite[] = [];
    for (const [seq, item] of bySeq) {
      (item.pair ? known : fresh).push({
        sourceKey: item.record.key!,
        targetKey: plan.target.codec.encode(item.targetKey)!,
        sourceHash: item.record.hash,
        targetHash: hashes.get(seq) ?? null,
        sourceCursor: item.record.cursor,
      });
    }
    // The pairs commit and the target upsert run side by side on their own connections; only the
    // target *commit* has to wait for the pairs commit.
    const writeRejections: RowRejection[] = [];
    const recreated = recreatesGoneRecords(parts) ? new Map<number, { key: string[]; hash: string }>() : undefined;
    const [markerIds] = await Promise.all([
      tx.unit(state, async () => {
        if (carry?.open) await ctx.runState.endInflight(carry.open);
        await parts.pairs.insertNew(fresh);
        await parts.pairs.upsert(known);
        await clearCreateIntents(parts, live);
        const keysOf = (writes: PairWrite[]) => writes.map((p) => p.sourceKey);
        return ctx.runState.beginInflight(plan.name, keysOf(fresh), keysOf(known), transaction);
      }),
      (async () => {
        const pending = slowRows.filter((row) => bySeq.has(row.seq));
        await parts.target.write(pending.filter(isFresh).map((row) => row.seq), writeRejections, 'insert');
        await parts.target.write(pending.filter((row) => !isFresh(row)).map((row) => row.seq), writeRejections, 'upsert', recreated);
      })(),
    ]);
    if (carry) carry.open = undefined;
    failpoint('batch:pairs-committed');

    const rejectedSeqs = new Set(writeRejections.map((r) => r.seq));
    const reappeared = [...bySeq.entries()].filter(([seq, i]) => i.kind === 'reappeared' && !rejectedSeqs.has(seq)).map(([, i]) => i.targetKey);
    await parts.target.setArchived(reappeared, false);
    await tx.commit(target);
    failpoint('batch:target-committed');

    if (carry && !afterCommit && writeRejections.length === 0 && !recreated?.size) carry.open = markerIds;
    else await tx.unit(state, async () => {
      const dropped: string[] = [];
      const stale: string[] = [];
      for (const rejection of writeRejections) {
        const item = bySeq.get(rejection.seq)!;
        tally.reject(item.record.key!, rejection.reason);
        (item.kind === 'new' ? dropped : stale).push(item.record.key!);
        bySeq.delete(rejection.seq);
      }
      await parts.pairs.remove(dropped);
      await parts.pairs.markStale(stale);
      if (recreated?.size) await parts.pairs.upsert(movedPairs(parts, bySeq, recreated));
      await ctx.runState.endInflight(markerIds);
      if (afterCommit) await afterCommit();
    });
    failpoint('batch:done');
    countWritten(parts, bySeq.values());
  } catch (error) {
    await tx.rollback(target);
    throw error;
  }
  tally.reportProgress();
}

/** A new record under a key just drawn for it: its row cannot exist in the target yet. */
export function isFreshItem(parts: EntityParts, item: WriteItem): boolean {
  return item.kind === 'new' && !item.linked && !item.pair && hasTargetKey(item) && parts.plan.target.keyMode === 'generated';
}

/**
 * Clears the create intents of the batch's new records with their pairs (or their rejection). A record
 * linked by its match fields while an intent was open is one an interrupted run had created.
 */
export async function clearCreateIntents(parts: EntityParts, items: WriteItem[]): Promise<void> {
  if (!parts.intents) return;
  const created = items.filter((item) => item.kind === 'new');
  if (created.length === 0) return;
  const cleared = new Set(await parts.intents.clear(created.map((item) => item.record.key!)));
  parts.tally.recoveredCreates += created.filter((item) => item.linked && cleared.has(item.record.key!)).length;
}

/** A target whose deleted records come back under new keys, in a flow that may create there. */
const recreatesGoneRecords = (parts: EntityParts) =>
  parts.ctx.target.capabilities.newKeyOnRecreate === true && parts.plan.target.keyMode === 'generated' && parts.plan.actions.has('createInTarget');

/** Pairs of records that were gone from the target and were found again or re-created under a new key. */
function movedPairs(parts: EntityParts, bySeq: Map<number, KeyedItem>, recreated: Map<number, { key: string[]; hash: string }>): PairWrite[] {
  const moved: PairWrite[] = [];
  for (const [seq, { key, hash }] of recreated) {
    const item = bySeq.get(seq);
    if (!item) continue;
    item.targetKey = key;
    moved.push({ sourceKey: item.record.key!, targetKey: parts.plan.target.codec.encode(key)!, sourceHash: item.record.hash, targetHash: hash, sourceCursor: item.record.cursor });
  }
  if (moved.length > 0) parts.tally.notes.push(`${moved.length} records were gone from the target and were written again under a new key`);
  return moved;
}

function countWritten(parts: EntityParts, written: Iterable<WriteItem>): void {
  const counters = parts.tally.counters;
  for (const item of written) {
    if (item.kind !== 'new') counters.updated++;
    else if (item.linked) counters.linked++;
    else counters.created++;
  }
}
