import type { StoredPair } from '../../store/pairs.js';
import type { Row } from '../connector.js';
import { joinWithPairs } from '../key-join.js';
import type { KeyMatch } from '../merge-join.js';
import { clearCarriedMarker, writeBatch, type MarkerCarry } from './batch-writer.js';
import { classify } from './classify.js';
import { checkTargetDrift } from './drift.js';
import type { EntityParts } from './parts.js';
import { keyedRecords, parseSourceRow, rejectedAsUnreadable, rejectRepeatedKey, sourceRowOf, type KeyedRecord, type WriteItem } from './source-records.js';
import { drawKeysAhead } from './target-keys.js';
import { handleVanished } from './vanished.js';
import { advanceToNewest, NewestWithinCeiling, noteCursorCeiling } from './watermark.js';
import { WritePipeline } from './write-pipeline.js';

/** Decides, for a key-only Full scan, whether to fetch changed rows by key instead of streaming every column. */
const KEY_ONLY_PAIR_RATIO = 0.5;

/**
 * A Full pass: repairs target drift, then compares every source row with its pair (new, changed,
 * unchanged) and every pair with its source row (vanished), writes what changed and re-sets the
 * watermark to the source's newest row.
 */
export async function fullPass(parts: EntityParts): Promise<void> {
  const { ctx } = parts;
  await parts.prepare();
  const pairCount = await parts.pairs.count();
  if (pairCount > 0) await checkTargetDrift(parts);

  const sourceRows = await parts.fetcher.estimateRows();
  // Without a shared snapshot, rows fetched by key could be newer than the scan that chose them.
  const keyOnly = pairCount > 0 && pairCount >= KEY_ONLY_PAIR_RATIO * sourceRows && ctx.source.capabilities.sharedSnapshot;

  try {
    const snapshot = await ctx.source.beginSnapshot();
    await ctx.sourceFetch.joinSnapshot(snapshot);
    const newest = new NewestWithinCeiling(parts);
    await compareSourceWithPairs(parts, keyOnly, newest, pairCount === 0);
    await advanceToNewest(parts, newest.newest);
    noteCursorCeiling(parts);
  } finally {
    await ctx.source.endSnapshot().catch(() => {});
    await ctx.sourceFetch.endSnapshot().catch(() => {});
  }
}

/**
 * Joins the source with the pairs by key (see joinWithPairs: merged as they stream when the source
 * scans in key order, joined in the state DB otherwise): a key on both sides is compared by hash, a
 * source-only key is new, a pair-only key is a vanished source row. With no pairs yet and a source
 * that gives each key once, every row is new as it comes: nothing to join, nothing to stage.
 */
async function compareSourceWithPairs(parts: EntityParts, keyOnly: boolean, newest: NewestWithinCeiling, noPairs: boolean): Promise<void> {
  const { plan, ctx, tally } = parts;
  const records = newest.follow(keyedRecords(plan, parts.reader.scan(!keyOnly), tally));
  const matches =
    noPairs && parts.reader.uniqueKeys
      ? onlyLeft(records)
      : joinWithPairs<KeyedRecord>(
          {
            rows: records,
            ordered: ctx.source.capabilities.orderedScan,
            key: (record) => record.key,
            toRow: sourceRowOf,
            fromRow: (row) => parseSourceRow(plan, row) as KeyedRecord,
          },
          { stream: (stage) => parts.pairs.streamBySourceKey(ctx.stateStream.client, stage), key: (pair) => pair[0]! },
          ctx.stateStream.client,
        );
  const pipeline = new WritePipeline();
  const carry: MarkerCarry = {};
  let writes: WriteItem[] = [];
  let gone: StoredPair[] = [];
  let previousKey: string | undefined;
  for await (const { left: record, right: pairRow } of matches) {
    const turn = pipeline.pace();
    if (turn) await turn;
    const pair = pairRow && toStoredPair(pairRow);
    if (record && record.key === previousKey) {
      // A source without a primary key can repeat a key (adjacent, in key order); writing it twice would clash in one batch.
      rejectRepeatedKey(plan, record.key, tally);
    } else if (record) {
      const write = classify(plan, record, pair, parts.matching, tally);
      if (write) writes.push(write);
    } else if (!pair!.sourceGone) {
      gone.push(pair!);
    }
    previousKey = record?.key ?? previousKey;
    if (writes.length >= ctx.batchSize) {
      const batch = writes;
      if (!keyOnly) drawKeysAhead(parts, batch);
      await pipeline.start(() => flushWrites(parts, batch, keyOnly, carry));
      writes = [];
    }
    if (gone.length >= ctx.batchSize) {
      await pipeline.settle();
      await handleVanished(parts, gone);
      gone = [];
    }
  }
  if (!keyOnly) drawKeysAhead(parts, writes);
  await pipeline.start(() => flushWrites(parts, writes, keyOnly, carry));
  await pipeline.settle();
  await clearCarriedMarker(parts, carry);
  await handleVanished(parts, gone);
}

async function* onlyLeft(records: AsyncIterable<KeyedRecord>): AsyncGenerator<KeyMatch<KeyedRecord, Row>> {
  for await (const record of records) yield { left: record };
}

async function flushWrites(parts: EntityParts, writes: WriteItem[], keyOnly: boolean, carry: MarkerCarry): Promise<void> {
  const readable = keyOnly && writes.length > 0 ? await fetchValues(parts, writes) : writes;
  if (readable.length > 0) await writeBatch(parts, readable, undefined, carry);
}

/** Key-only scans learn which rows changed; this loads just those rows, from the same snapshot (less those it cannot read). */
async function fetchValues(parts: EntityParts, writes: WriteItem[]): Promise<WriteItem[]> {
  const byKey = new Map(writes.map((w) => [w.record.key!, w]));
  for await (const row of parts.fetcher.byKeys(writes.map((w) => w.record.keyParts as string[]))) {
    const fetched = parseSourceRow(parts.plan, row);
    if (rejectedAsUnreadable(row, fetched.key!, parts.tally, parts.plan)) {
      byKey.delete(fetched.key!);
      continue;
    }
    const item = byKey.get(fetched.key!);
    if (item) item.record = fetched;
  }
  return writes.filter((w) => byKey.has(w.record.key!));
}

function toStoredPair(row: Row): StoredPair {
  return { sourceKey: row[0]!, targetKey: row[1]!, sourceHash: row[2], targetHash: row[3], sourceGone: row[4] === 't' };
}
