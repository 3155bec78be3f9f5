import type { NewPairSources, StoredPair } from '../../store/pairs.js';
import { pairStatisticsFit } from '../../store/pairs-statistics.js';
import { ownRecordStrings } from '../../util/own-strings.js';
import type { FreshBatch, Row } from '../connector.js';
import { freshBatchMaker } from './fresh-batches.js';
import { joinChunksWithPairs, SAME_VERSION_PAIR, type ChunkedSide, type PairsByKey } from '../key-join.js';
import { clearCarriedMarker, writeBatch, type MarkerCarry } from './batch-writer.js';
import { classify, UNCHANGED_PAIR } from './classify.js';
import { checkTargetDrift } from './drift.js';
import type { EntityParts } from './parts.js';
import {
  FreshRecord,
  parseSourceRow,
  readFreshRecord,
  readRecord,
  readScannedRecord,
  rejectedAsUnreadable,
  rejectRepeatedKey,
  ScannedRecord,
  sourceRowOf,
  type KeyedRecord,
  type WriteItem,
} from './source-records.js';
import { refreshStatistics } from './statistics.js';
import { drawKeysAhead } from './target-keys.js';
import { handleVanished } from './vanished.js';
import { advanceToNewest, NewestWithinCeiling, noteCursorCeiling } from './watermark.js';
import { WritePipeline } from './write-pipeline.js';

/** Decides, for a key-only Full scan, whether to fetch changed rows by key instead of streaming every column. */
const KEY_ONLY_PAIR_RATIO = 0.5;

/**
 * A Full pass: repairs target drift, then compares every source row with its pair (new, changed,
 * unchanged) and every pair with its source row (vanished), writes what changed, re-sets the
 * watermark to the source's newest row and analyses the pairs if their statistics fell behind.
 */
export async function fullPass(parts: EntityParts): Promise<void> {
  const { ctx } = parts;
  await parts.prepare();
  const pairCount = await parts.pairs.count();
  // Without pairs at its start, this pass marks none gone (it only adds new ones): deleteVanished has none to look for.
  parts.noneGone = pairCount === 0;
  if (pairCount === 0) parts.pairLedger.startEmpty();
  if (pairCount > 0) await checkTargetDrift(parts);

  const sourceRows = await parts.fetcher.estimateRows();
  // Without a shared snapshot, rows fetched by key could be newer than the scan that chose them.
  const keyOnly = pairCount > 0 && pairCount >= KEY_ONLY_PAIR_RATIO * sourceRows && ctx.source.capabilities.sharedSnapshot;

  try {
    const snapshot = await ctx.source.beginSnapshot();
    await ctx.sourceFetch.joinSnapshot(snapshot);
    const newest = new NewestWithinCeiling(parts);
    await compareSourceWithPairs(parts, keyOnly, newest, pairCount);
    await advanceToNewest(parts, newest.newest);
    noteCursorCeiling(parts);
  } finally {
    await ctx.source.endSnapshot().catch(() => {});
    await ctx.sourceFetch.endSnapshot().catch(() => {});
  }
  // After a first import (or any pass that changed many pairs), before the next run looks pairs up by key.
  await refreshStatistics(parts);
}

/**
 * Joins the source with the pairs by key (see joinChunksWithPairs: merged as they stream when the source
 * scans in key order, in the source's order when it gives each key once, joined in the state DB
 * otherwise): a key on both sides is compared by hash, a source-only key is new, a pair-only key is
 * a vanished source row. With no pairs yet and a source that gives each key once, every row is new
 * as it comes: nothing to join, nothing to stage.
 */
async function compareSourceWithPairs(parts: EntityParts, keyOnly: boolean, newest: NewestWithinCeiling, pairCount: number): Promise<void> {
  const noPairs = pairCount === 0;
  const comparison = new Comparison(parts, keyOnly, !noPairs);
  if (noPairs && parts.reader.uniqueKeys) await takeFreshRecords(parts, comparison, keyOnly, newest);
  else await takeMatchChunks(parts, comparison, keyOnly, newest, pairCount);
  await comparison.finish();
}

/** Every row is new: its values may become the target's bytes as it comes (see fresh-batches.ts). */
async function takeFreshRecords(parts: EntityParts, comparison: Comparison, keyOnly: boolean, newest: NewestWithinCeiling): Promise<void> {
  comparison.freshBatch = await freshBatchMaker(parts);
  // A chunk at a time where the reader gives chunks: one async step per chunk, not a promise per row.
  const read: RecordReader = comparison.freshBatch ? (plan, row, tally) => readFreshRecord(plan, row, tally, parts.freshRecords) : readRecord;
  for await (const records of scannedRecordChunks(parts, !keyOnly, newest, read)) {
    // Indexed: an array iterator's result object per row is garbage the young generation collects.
    for (let i = 0; i < records.length; i++) {
      const turn = comparison.take(records[i]!, undefined);
      if (turn) await turn;
    }
  }
}

/**
 * The source's matches with the pairs a chunk at a time: merged as both stream when the source scans
 * in key order, else in the source's order (a day-2 snapshot joins every row). Pairs looked up by key
 * compare hashes in the state DB: an unchanged row's pair is not read back (SAME_VERSION_PAIR), so it
 * costs no pair object. `pairCount`: as counted at the pass's start (the drift check since changes
 * few, and a count a little off only picks the way of joining).
 */
async function takeMatchChunks(parts: EntityParts, comparison: Comparison, keyOnly: boolean, newest: NewestWithinCeiling, pairCount: number): Promise<void> {
  const side: ChunkedSide<KeyedRecord> = {
    ...sourceSide(parts),
    ordered: parts.ctx.source.capabilities.orderedScan,
    version: (record) => record.hash,
    chunks: scannedRecordChunks(parts, !keyOnly, newest, recordsOf(pairCount)),
  };
  const pairs: PairsByKey = { ...pairsBySourceKey(parts), count: pairCount, sameVersion: (pair, hash) => parts.pairs.unchangedSourceSql(pair, hash) };
  for await (const { left, right } of joinChunksWithPairs<KeyedRecord>(side, pairs, parts.ctx.stateStream.client)) {
    // Indexed, as in takeFreshRecords.
    for (let i = 0; i < left.length; i++) {
      const pair = right[i];
      const turn = comparison.take(left[i], pair === SAME_VERSION_PAIR ? UNCHANGED_PAIR : pair && toStoredPair(pair));
      if (turn) await turn;
    }
  }
}

/** The source's records as a side of the join with the pairs (see joinChunksWithPairs). */
function sourceSide(parts: EntityParts): Omit<ChunkedSide<KeyedRecord>, 'chunks'> {
  return {
    uniqueKeys: parts.reader.uniqueKeys,
    key: (record) => record.key,
    // Staged rows: a held row's fields read once, not a slice of values per field.
    toRow: (record) => sourceRowOf(record instanceof ScannedRecord ? record.plain() : record),
    fromRow: (row) => parseSourceRow(parts.plan, row) as KeyedRecord,
  };
}

function pairsBySourceKey(parts: EntityParts): PairsByKey {
  const { ctx, pairs } = parts;
  return {
    stream: (stage) => pairs.streamBySourceKey(ctx.stateStream.client, stage),
    key: (pair) => pair[0]!,
    fitForLookups: (count) => pairStatisticsFit(ctx.stateStream.client, pairs.flow, pairs.entity, count),
  };
}

type RecordReader = (plan: EntityParts['plan'], row: Row, tally: EntityParts['tally']) => KeyedRecord | undefined;

/**
 * How a Full scan's rows become records: with pairs to compare with, most rows are unchanged and
 * need little of their record (ScannedRecord); without, each is a row to write (a plain record).
 */
function recordsOf(pairCount: number): RecordReader {
  return pairCount > 0 ? readScannedRecord : readRecord;
}

/**
 * The scan's records a chunk at a time, as the reader gives chunks (`scanChunks`) or one row each,
 * made by `read` (readFreshRecord where every row is new and its values go into a FreshBatch, see
 * `Comparison.take`): rows without a usable key are rejected on the way, and every record is seen by `newest`.
 */
async function* scannedRecordChunks(parts: EntityParts, withValues: boolean, newest: NewestWithinCeiling, read: RecordReader): AsyncGenerator<KeyedRecord[]> {
  const { reader, plan, tally } = parts;
  for await (const rows of reader.scanChunks?.(withValues) ?? oneRowChunks(reader.scan(withValues))) {
    // Sized once (not grown a push at a time), cut to the records read.
    const records = new Array<KeyedRecord>(rows.length);
    let count = 0;
    for (let i = 0; i < rows.length; i++) {
      const record = read(plan, rows[i]!, tally);
      if (!record) continue;
      newest.see(record);
      records[count++] = record;
    }
    records.length = count;
    yield records;
  }
}

async function* oneRowChunks(rows: AsyncIterable<Row>): AsyncGenerator<Row[]> {
  for await (const row of rows) yield [row];
}

/**
 * Takes the joined source records and pairs in turn and writes what they need, a batch at a time
 * (up to two batches in flight while the next is read). `take` returns a promise only when the caller must
 * wait (a turn of the event loop, a full batch): most rows cost no promise.
 */
class Comparison {
  // Two batches in flight: the reader goes on while a write waits on a server (a group's commit, a COPY).
  private readonly pipeline = new WritePipeline(2);
  private readonly carry: MarkerCarry = {};
  private writes: WriteItem[] = [];
  private gone: StoredPair[] = [];
  private previousKey: string | undefined;
  /** Set when new rows' values go into a FreshBatch as they come (`take`): `prepared` holds the batch being filled's. */
  freshBatch?: () => FreshBatch;
  private prepared?: FreshBatch;
  /** With `prepared`: the source fields of the new pairs of the batch being filled (FreshRecord.takeValues). */
  private preparedPairs?: NewPairSources;

  constructor(
    private readonly parts: EntityParts,
    private readonly keyOnly: boolean,
    /** Rows to write are few among many read (there are pairs): each write's strings are copied (see ownRecordStrings). */
    private readonly sparse: boolean,
  ) {}

  take(record: KeyedRecord | undefined, pair: StoredPair | undefined): Promise<void> | undefined {
    const { plan, tally, matching, ctx } = this.parts;
    const turn = this.pipeline.pace();
    if (record && record.key === this.previousKey) {
      // A source without a primary key can repeat a key (adjacent, in key order); writing it twice would clash in one batch.
      rejectRepeatedKey(plan, record.key, tally);
    } else if (record) {
      const write = classify(plan, record, pair, matching, tally);
      if (write) {
        // Its record holds its row, which may hold a chunk of read text: a plain record holds its values only.
        if (write.record instanceof ScannedRecord) write.record = write.record.plain();
        // A batch of a mostly unchanged source fills over many chunks of read text: its values must not keep them alive.
        if (this.sparse) ownRecordStrings(write.record);
        if (this.freshBatch && write instanceof FreshRecord) {
          // Its values go from its row into the batch: no values array per row.
          write.takeValues(plan, (this.prepared ??= this.freshBatch()), (this.preparedPairs ??= this.parts.pairs.newPairSources()));
        } else if (this.freshBatch && write.kind === 'new' && write.record.values) {
          // The values become the target's bytes now: what lives until the batch is written is bytes, not strings.
          write.freshRow = (this.prepared ??= this.freshBatch()).add(write.record.values);
          write.record.values = undefined;
        }
        this.writes.push(write);
      }
    } else if (!pair!.sourceGone) {
      this.gone.push(pair!);
    }
    this.previousKey = record?.key ?? this.previousKey;
    return turn || this.writes.length >= ctx.batchSize || this.gone.length >= ctx.batchSize ? this.flush(turn) : undefined;
  }

  /** Waits for the turn, then starts a full batch of writes, or handles a full batch of vanished pairs. */
  private async flush(turn: Promise<void> | undefined): Promise<void> {
    if (turn) await turn;
    const { parts, keyOnly, carry } = this;
    if (this.writes.length >= parts.ctx.batchSize) {
      const batch = this.writes;
      const { prepared, preparedPairs } = this;
      this.writes = [];
      this.prepared = undefined;
      this.preparedPairs = undefined;
      if (!keyOnly) drawKeysAhead(parts, batch);
      await this.pipeline.start(() => flushWrites(parts, batch, keyOnly, carry, prepared, preparedPairs));
    }
    if (this.gone.length >= parts.ctx.batchSize) {
      await this.pipeline.settle();
      await handleVanished(parts, this.gone);
      this.gone = [];
    }
  }

  /** Writes the last batch and the vanished pairs left. */
  async finish(): Promise<void> {
    const { parts, keyOnly, carry, writes, prepared, preparedPairs } = this;
    if (!keyOnly) drawKeysAhead(parts, writes);
    await this.pipeline.start(() => flushWrites(parts, writes, keyOnly, carry, prepared, preparedPairs));
    await this.pipeline.settle();
    await clearCarriedMarker(parts, carry);
    await handleVanished(parts, this.gone);
  }
}

async function flushWrites(
  parts: EntityParts,
  writes: WriteItem[],
  keyOnly: boolean,
  carry: MarkerCarry,
  prepared: FreshBatch | undefined,
  preparedPairs: NewPairSources | undefined,
): Promise<void> {
  const readable = keyOnly && writes.length > 0 ? await fetchValues(parts, writes) : writes;
  if (readable.length > 0) await writeBatch(parts, readable, undefined, carry, prepared, preparedPairs);
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
