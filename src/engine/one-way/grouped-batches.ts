import type { NewPairs, NewPairSources } from '../../store/pairs.js';
import { failpoint } from '../../util/failpoint.js';
import { encodedIntegerCodes } from '../keys.js';
import { drawnKey, type DrawnKeyList, type FreshBatch, type RowRejection, type StageRow } from '../connector.js';
import { restoreValues } from './fresh-batches.js';
import type { MarkerCarry } from './batch-writer.js';
import type { EntityParts } from './parts.js';
import { FreshRecord, hasTargetKey, type WriteItem } from './source-records.js';
import { WritePipeline } from './write-pipeline.js';

/**
 * Batches that may share one target transaction. A crash before the group's target commit leaves
 * pairs naming keys drawn inside that transaction, which a killed PostgreSQL server can hand out
 * again after its restart: the recovery drops those pairs (recover-batches.ts), so their records
 * are created anew instead of rewritten under a key that a new row is about to take.
 *
 * Each group ends with a wait: its target commit waits for the pairs transaction of its last member,
 * and the next group's first batch for that commit (the reader goes on meanwhile, two batches ahead).
 * 16 rather than 8 halves those waits (a 300k-row first import's pass took 4.3-4.8 s instead of
 * 5.0-5.2 s); a crash inside a group leaves up to 16 batches for the recovery to redo.
 */
const GROUP_BATCHES = 16;

/**
 * Batches of fresh rows (new records under keys just drawn) that write into one open target
 * transaction. A batch joins while the batch before it still waits for its pairs commit, so its
 * COPY runs beside that pairs transaction instead of after it. The target commits once the last
 * member's pairs and marker have committed: every pairs transaction of the group commits before the
 * target does, as for a single batch, and a crash in between leaves a marker per batch.
 */
export interface TargetGroup {
  members: number;
  /** Members whose pairs transaction has committed. */
  done: number;
  markers: number[];
  /** Set when the target commit (or rollback) has been sent: nobody joins any more. */
  closing: boolean;
  /** A failed group stays the carry's group: every later batch waits for its rollback and fails with its error. */
  failed?: unknown;
  /** The member writing to the target now (from its join on); a rollback waits for it, so nothing of it lands after. */
  head?: Promise<void>;
  /**
   * The target transaction's token (capability `transactionOutcome`), recorded in each member's
   * marker: after a crash the recovery asks the target whether the group's transaction committed.
   */
  transaction?: Promise<string | undefined>;
  /** Settles with the target commit. */
  committed: Promise<void>;
  settle(error?: unknown): void;
}

function newGroup(): TargetGroup {
  let settle!: (error?: unknown) => void;
  const committed = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
  committed.catch(() => {}); // surfaced to whoever waits on it
  return { members: 0, done: 0, markers: [], closing: false, committed, settle };
}

/**
 * Writes a batch of fresh rows as a member of the open target group (or of a new one), then hands
 * its pairs transaction and the group's commit to the write pipeline (`WritePipeline.defer`), so
 * the next batch can start writing to the target while they run.
 */
export async function writeGroupedBatch(parts: EntityParts, items: WriteItem[], carry: MarkerCarry, prepared?: FreshBatch, preparedPairs?: NewPairSources): Promise<void> {
  const group = await joinGroup(parts, carry);
  const position = group.members;
  const wrote = holdHead(group);
  let written: WrittenRows;
  try {
    // The group may have failed since this batch joined: its rollback waits for this head, and
    // nothing of this batch may be written after it (the statements would run outside a transaction).
    if (group.failed !== undefined) throw group.failed;
    written = await writeTargetRows(parts, items, prepared, preparedPairs);
  } catch (error) {
    wrote();
    await failGroup(parts, group, error);
    throw error;
  }
  wrote();
  // Only the keys go on to the pairs transaction: the records and their values, held by `items`,
  // can go once the target has them (that transaction waits for the one before it).
  const intentKeys = parts.intents ? items.map((item) => item.record.key!) : undefined;
  // Nothing uses the batch's records any more: its FreshRecords serve the rows read next.
  parts.freshRecords.giveBack(items);
  // A later member has joined when this one commits: this commit need not wait for its flush (see commitPairs).
  const pairsDone = commitPairs(parts, carry, intentKeys, written, group.transaction, () => group.members > position);
  carry.pairsDone = pairsDone;
  const tail = finishMember(parts, carry, group, pairsDone, written.pairs.count);
  if (!WritePipeline.defer(tail)) await tail;
}

/** Makes the joined member the group's head (held from the moment it joined); returns its release. */
function holdHead(group: TargetGroup): () => void {
  let release!: () => void;
  group.head = new Promise<void>((resolve) => (release = resolve));
  return () => {
    group.head = undefined;
    release();
  };
}

/**
 * Joins the open group unless it is full or committing (then waits for its commit); else begins a
 * target transaction. After a failed group it waits for that group's rollback and fails too: a new
 * target transaction begun before would send BEGIN behind the ROLLBACK, and the pass is over anyway.
 */
async function joinGroup(parts: EntityParts, carry: MarkerCarry): Promise<TargetGroup> {
  for (let open = carry.group; open; open = carry.group) {
    if (!open.closing && open.failed === undefined && open.members < GROUP_BATCHES) {
      open.members++;
      return open;
    }
    await open.committed;
  }
  const group = newGroup();
  group.members = 1;
  carry.group = group;
  // BEGIN and the transaction's token in one round trip: no statement more per group.
  const began = parts.ctx.tx.beginTracked(parts.ctx.target);
  group.transaction = began.catch(() => undefined);
  try {
    await began;
  } catch (error) {
    group.closing = true;
    group.failed = error;
    group.settle(error);
    throw error;
  }
  return group;
}

/**
 * The rows a batch wrote: their pairs as COPY data already (no object or encoded key per row waits
 * for the pairs transaction), and their source keys for the batch's inflight marker.
 */
interface WrittenRows {
  pairs: NewPairs;
  sourceKeys: string[];
}

/**
 * COPYs the rows into the target (inside the group's transaction) and returns the pairs of the rows
 * written, with their stored hashes. A batch COPY refuses rejects nothing: when it fails, the rows
 * are staged and inserted one way that rejects single rows, before their pairs are written (so no
 * pair has to be taken back).
 */
async function writeTargetRows(parts: EntityParts, items: WriteItem[], prepared: FreshBatch | undefined, preparedPairs: NewPairSources | undefined): Promise<WrittenRows> {
  const { plan, tally } = parts;
  failpoint('batch:created');
  // Sized once (arrays grown a push at a time copy their elements over and over: garbage per batch).
  let count = 0;
  let unprepared = 0;
  for (let seq = 0; seq < items.length; seq++) {
    const item = items[seq]!;
    if (!hasTargetKey(item)) continue;
    count++;
    if (item.freshRow === undefined) unprepared++;
  }
  // The rows' values went into `prepared` as they were read (fresh-batches.ts); should any row's not have, every row gets its values back.
  let batch = prepared;
  if (batch && unprepared > 0) {
    restoreValues(items, batch);
    batch = undefined;
  }
  const keyed = new Array<WriteItem>(count);
  // Side by side (no object per row): row i is keyed[i], at seqs[i] in `items`, its values at positions[i] of `batch` (or values[i]).
  const seqs = new Array<number>(count);
  const positions = batch ? new Array<number>(count) : undefined;
  const values = positions ? [] : new Array<(string | null)[]>(count);
  // The target keys flat, row i's parts from `columns * i` on: a FreshRecord's drawn key is copied part by part, not made an array.
  const columns = plan.target.keys.length;
  const keys: DrawnKeyList = { columns, values: new Array<string>(columns * count) };
  // A generated target key is no mapped field: the values are the fields', used as they are (not copied per row).
  const skip = plan.keyFields.length;
  for (let seq = 0, i = 0; seq < items.length; seq++) {
    const item = items[seq]!;
    if (!hasTargetKey(item)) continue;
    if (item instanceof FreshRecord) for (let c = 0; c < columns; c++) keys.values[columns * i + c] = item.targetKeyPart(c);
    else {
      const key = item.targetKey!;
      for (let c = 0; c < columns; c++) keys.values[columns * i + c] = key[c]!;
    }
    if (positions) positions[i] = item.freshRow!;
    else {
      const rowValues = item.record.values!;
      values[i] = skip === 0 ? rowValues : rowValues.slice(skip);
    }
    seqs[i] = seq;
    keyed[i++] = item;
  }
  const copied =
    batch && positions ? await parts.target.copyFreshBatch!(batch, positions, keys) : await parts.target.copyFresh({ keys: seqs.map((_, i) => drawnKey(keys, i)), values });
  if (copied) {
    const written = await newWrittenRows(parts, count);
    for (let i = 0; i < count; i++) addPair(parts, written, keyed[i]!, keys, i, copied[i]);
    written.sourceKeys.length = written.pairs.count;
    // Every row's source fields went into its pair's bytes: their buffers go to a later batch.
    preparedPairs?.release();
    return written;
  }
  // The values of a prepared batch's rows are read back from its bytes.
  const rows: StageRow[] = seqs.map((seq, i) => ({ seq, key: drawnKey(keys, i), values: batch && positions ? batch.values(positions[i]!) : values[i]! }));
  const rejections: RowRejection[] = [];
  await parts.target.stageRows(rows, rejections);
  const hashes = await parts.target.expectedHashes();
  const castRejected = new Set(rejections.map((r) => r.seq));
  const staged = rows.filter((row) => !castRejected.has(row.seq)).map((row) => row.seq);
  await parts.target.write(staged, rejections, 'insert');
  const rejected = new Set<number>();
  for (const { seq, reason } of rejections) {
    if (rejected.has(seq)) continue;
    rejected.add(seq);
    tally.reject(items[seq]!.record.key!, reason);
  }
  const written = await newWrittenRows(parts, rows.length);
  rows.forEach((row, i) => {
    if (!rejected.has(row.seq)) addPair(parts, written, keyed[i]!, keys, i, hashes.get(row.seq));
  });
  written.sourceKeys.length = written.pairs.count;
  preparedPairs?.release();
  return written;
}

/** `rows`: at most that many pairs will be added (`sourceKeys` is sized for them; cut to the pairs' count once added). */
async function newWrittenRows(parts: EntityParts, rows: number): Promise<WrittenRows> {
  return { pairs: await parts.pairs.newPairs(), sourceKeys: new Array<string>(rows) };
}

/** Adds the pair of a row written under its drawn key (key `i` of `keys`), with the hash the row has in the target (null when unknown). */
function addPair(parts: EntityParts, written: WrittenRows, item: WriteItem, keys: DrawnKeyList, i: number, targetHash: string | undefined): void {
  const { record } = item;
  const { codec } = parts.plan.target;
  // The usual drawn key (one non-negative integer) goes into the pairs' data as character codes, not as a string per row.
  const codes = keys.columns === 1 && codec.kinds.length === 1 && codec.kinds[0] === 'integer' ? encodedIntegerCodes(keys.values[i]!) : undefined;
  written.sourceKeys[written.pairs.count] = record.key!;
  const key = codes ?? codec.encode(drawnKey(keys, i))!;
  // A FreshRecord's source fields are bytes already (FreshRecord.takeValues): copied, not read back.
  if (item instanceof FreshRecord && item.addPairTo(written.pairs, key, targetHash ?? null)) return;
  written.pairs.add(record.key!, key, record.hash, targetHash ?? null, record.cursor);
}

/**
 * The member's pairs transaction (after the one before it; it also clears the markers of batches
 * whose target commit is done), then the group's target commit when this member is the last one.
 * Only the pairs transaction holds the batch's rows: a member waiting for the commit holds a count.
 */
async function finishMember(parts: EntityParts, carry: MarkerCarry, group: TargetGroup, pairsDone: Promise<number>, created: number): Promise<void> {
  try {
    group.markers.push(await pairsDone);
    failpoint('batch:pairs-committed');
    group.done++;
    if (group.done === group.members) await commitGroup(parts, carry, group);
    else await group.committed;
  } catch (error) {
    await failGroup(parts, group, error);
    throw error;
  }
  if (carry.pairsDone === pairsDone) carry.pairsDone = undefined;
  failpoint('batch:target-committed');
  failpoint('batch:done');
  // Every member's row is new under a drawn key (never linked): each one written is a create.
  parts.tally.counters.created += created;
  parts.tally.reportProgress();
}

/**
 * Pairs and the inflight marker of one member, committed after the previous member's; resolves to the marker.
 *
 * A member followed by another one (`followed()` when it commits) commits without waiting for the
 * state server's WAL flush. The group's target commit waits for its last member's pairs commit, and
 * that member was followed by none when it committed, so its commit waits for the flush, which
 * covers every commit before it (the WAL is flushed in order): every pair of the group is durable
 * before the target commit is sent. A crash of the state server before may lose a suffix of the
 * group's pairs transactions, each with its marker; the group's target transaction then never
 * commits, so the lost pairs named no landed row, and the recovery handles the markers that remain
 * as for any crash before a target commit. A crash of Ferry loses no commit the server has answered.
 */
async function commitPairs(
  parts: EntityParts,
  carry: MarkerCarry,
  intentKeys: string[] | undefined,
  written: WrittenRows,
  transaction: Promise<string | undefined> | undefined,
  followed: () => boolean,
): Promise<number> {
  const { plan, ctx } = parts;
  await carry.pairsDone;
  const targetTransaction = await transaction;
  const clearing = carry.open;
  carry.open = undefined;
  // A real transaction (a grouped batch never runs in a dry run, see writeBatch): BEGIN with the
  // markers in one round trip, the pairs, COMMIT.
  try {
    const marker = await ctx.runState.beginWithInflight(plan.name, written.sourceKeys, clearing, targetTransaction);
    await parts.pairs.insertNewPairs(written.pairs);
    // Every member's record is new and linked to no target row: no intent of it counts as recovered (see clearCreateIntents).
    if (intentKeys) await parts.intents!.clear(intentKeys);
    if (followed()) await ctx.state.commitUnflushed();
    else await ctx.state.commit();
    parts.pairLedger.newPairsCommitted(written.pairs.count);
    return marker;
  } catch (error) {
    await ctx.state.rollback().catch(() => {});
    throw error;
  }
}

async function commitGroup(parts: EntityParts, carry: MarkerCarry, group: TargetGroup): Promise<void> {
  group.closing = true;
  await parts.ctx.tx.commit(parts.ctx.target);
  carry.open = [...(carry.open ?? []), ...group.markers];
  if (carry.group === group) carry.group = undefined;
  group.settle();
}

/**
 * Rolls the group's target transaction back (once, after the member writing now has sent its last
 * statement); every member that fails returns once that rollback is done, so no statement of the
 * group is still running when the failure leaves the write pipeline. The group stays the carry's.
 */
async function failGroup(parts: EntityParts, group: TargetGroup, error: unknown): Promise<void> {
  if (group.failed !== undefined) {
    await group.committed.catch(() => {});
    return;
  }
  group.failed = error;
  group.closing = true;
  await group.head;
  await parts.ctx.tx.rollback(parts.ctx.target);
  group.settle(error);
}
