import { PAIR_COUNT, SeenKeys, StagedScan, type ScanStage, type StagedRow } from '../store/scan-stage.js';
import type { StateClient } from '../store/state-connection.js';
import { chunksOf, flattened, inBatches } from '../util/batches.js';
import type { Row } from './connector.js';
import { compareKeys } from './keys.js';
import { mergeByKey, mergeChunksByKey, type KeyMatch, type KeyMatchChunk } from './merge-join.js';

/** How a side's rows are keyed, ordered and staged (its rows come as KeyedSide's or ChunkedSide's). */
interface SideShape<L> {
  /**
   * The side gives each key at most once (a snapshot file, whose reader rejects repeats): a side
   * without key order is then joined in its own order, without staging its rows.
   */
  uniqueKeys?: boolean;
  key(row: L): string;
  /**
   * The row's version (a source row's hash), for pairs that can tell whether they hold it
   * (`PairsByKey.sameVersion`): a look-up then leaves out the pairs that do (SAME_VERSION_PAIR).
   */
  version?(row: L): string | null;
  /** The row as staged in the state database, and back (only used when the side is not ordered). */
  toRow(row: L): Row;
  fromRow(row: Row): L;
}

/** One side's rows, each with its encoded key; `ordered` when they come in the engine's key order. */
export interface KeyedSide<L> extends SideShape<L> {
  rows: AsyncIterable<L>;
  ordered: boolean;
}

/** A side whose rows come a chunk at a time, as its reader gives them (in key order only when `ordered`). */
export interface ChunkedSide<L> extends SideShape<L> {
  chunks: AsyncIterable<L[]>;
  /** The chunks come in the engine's key order (capability `orderedScan`): merged with the pairs as both stream. */
  ordered?: boolean;
}

/**
 * Matches a chunk at a time, in parallel arrays (no object per row): `left[i]` with its pair
 * `right[i]`; either is undefined where that side has none, never both. `right[i]` is
 * SAME_VERSION_PAIR where the pair holds the row's version (see `SideShape.version`).
 */
export type MatchChunk<L> = KeyMatchChunk<L, Row>;

/**
 * In place of a pair that a look-up found holding its row's version as it stands (a source row's
 * unchanged hash): its columns are not read back from the state DB. Compared by identity, never read.
 */
export const SAME_VERSION_PAIR: Row = Object.freeze([]) as unknown as Row;

/** The pairs of an entity, by the key column the side is joined on; with a stage, joined with it in the state DB. */
export interface PairsByKey {
  stream(stage?: ScanStage): AsyncIterable<Row>;
  key(pair: Row): string;
  /** How many pairs there are, when the caller knows (a count a little off only picks the way of joining: each gives the same matches). */
  count?: number;
  /**
   * The SQL condition that the pair (`pair`, a row of `stream`'s columns) holds the version
   * `version` as it stands: only where the side would find the row unchanged by that pair.
   */
  sameVersion?(pair: string, version: string): string;
  /**
   * Whether look-ups of these `count` pairs by key get per-key plans (the state DB's statistics count
   * them about right, refreshed if need be). Without it, or when it says no, a side is staged instead.
   */
  fitForLookups?(count: number): Promise<boolean>;
}

/** How a join in the side's order holds the pairs (tests make the bounds small). */
export interface SideOrderBounds {
  /** Pairs held in memory when there are at most this many (some 25 MB of pair rows at the default). */
  pairsInMemory: number;
  /**
   * Rows of the side per look-up of their pairs, when the pairs are more (a side that comes a chunk
   * at a time is looked up by its own chunks); also the matches per chunk of vanished or staged ones.
   */
  lookupRows: number;
}

export const SIDE_ORDER_BOUNDS: SideOrderBounds = { pairsInMemory: 100_000, lookupRows: 5_000 };

/**
 * Joins one side's rows with the pairs by key, like a full outer join: every row and every pair
 * comes out once, so new, changed, unchanged and vanished rows are told apart exactly alike.
 *
 * - A side that scans in key order (capability `orderedScan`) is merge-joined as it streams.
 * - A side without key order that gives each key once (`uniqueKeys`) keeps its own order: each row
 *   comes with its pair, and the vanished pairs follow in key order. Up to `bounds.pairsInMemory`
 *   pairs are held in memory by key; more are looked up in the state DB a chunk of keys at a time
 *   (SeenKeys), if `pairs.fitForLookups` says the look-ups get per-key plans. Its rows never go to
 *   the state DB.
 * - Any other side is staged in the state database (on `stateStream`, the connection that then
 *   streams the join), which joins and orders by key: a repeated key's rows come one after the
 *   other, and a run's writes keep one order whatever order the side scanned in.
 */
export function joinWithPairs<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient, bounds = SIDE_ORDER_BOUNDS): AsyncGenerator<KeyMatch<L, Row>> {
  // The merge itself, not a generator around it: one promise turn less per row of a drift check.
  if (side.ordered) return mergeByKey(side.rows, pairs.stream(), (row) => side.key(row), (pair) => pairs.key(pair));
  return joinUnordered(side, pairs, stateStream, bounds);
}

/**
 * joinWithPairs for a side that comes a chunk at a time, the matches a chunk at a time: one async
 * step per chunk, not per row. An ordered side is merged with the pairs' stream as its chunks and
 * the pairs' come. A side that gives each key once is matched chunk by chunk as its reader gives
 * them (the look-ups then take the reader's chunks, not `bounds.lookupRows`).
 */
export async function* joinChunksWithPairs<L>(side: ChunkedSide<L>, pairs: PairsByKey, stateStream: StateClient, bounds = SIDE_ORDER_BOUNDS): AsyncGenerator<MatchChunk<L>> {
  if (side.ordered) {
    yield* mergeChunksByKey(side.chunks, chunksOf(pairs.stream(), bounds.lookupRows), (row) => side.key(row), (pair) => pairs.key(pair));
    return;
  }
  const join = await joinInSideOrder(side, pairs, stateStream, bounds);
  if (join) yield* join(side.chunks);
  // The state DB's join streams a row at a time: grouped, so that the caller has one loop.
  else yield* matchesInChunks(joinStaged(side, flattened(side.chunks), pairs, stateStream), bounds.lookupRows);
}

/** joinWithPairs for a side without key order, a row at a time. */
async function* joinUnordered<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient, bounds: SideOrderBounds): AsyncGenerator<KeyMatch<L, Row>> {
  const join = await joinInSideOrder(side, pairs, stateStream, bounds);
  if (join) yield* oneByOne(join(inBatches(side.rows, bounds.lookupRows)));
  else yield* joinStaged(side, side.rows, pairs, stateStream);
}

type ChunkJoin<L> = (chunks: AsyncIterable<L[]>) => AsyncGenerator<MatchChunk<L>>;

/** The join in the side's own order that fits the pairs (see joinWithPairs), or undefined when the side must be staged. */
async function joinInSideOrder<L>(side: SideShape<L>, pairs: PairsByKey, stateStream: StateClient, bounds: SideOrderBounds): Promise<ChunkJoin<L> | undefined> {
  if (!side.uniqueKeys) return undefined;
  const count = pairs.count ?? (await pairCount(pairs));
  if (count <= bounds.pairsInMemory) return (chunks) => joinInMemory(side, chunks, pairs);
  if (await pairs.fitForLookups?.(count)) return (chunks) => joinByLookups(side, chunks, pairs, stateStream, bounds.lookupRows);
  return undefined;
}

/** The side staged in the state DB, which joins it with the pairs and orders both by key. */
async function* joinStaged<L>(side: SideShape<L>, rows: AsyncIterable<L>, pairs: PairsByKey, stateStream: StateClient): AsyncGenerator<KeyMatch<L, Row>> {
  const stage = await StagedScan.create(stateStream);
  await stage.load(staged(side, rows));
  for await (const joined of pairs.stream(stage)) {
    const { row, pair } = stage.split(joined);
    yield { ...(row ? { left: side.fromRow(row) } : {}), ...(pair[0] !== null ? { right: pair } : {}) };
  }
  await stage.drop();
}

async function pairCount(pairs: PairsByKey): Promise<number> {
  let count = 0;
  for await (const row of pairs.stream(PAIR_COUNT)) count = Number(row[0]);
  return count;
}

/** The pairs in a map by key (in key order), each taken out as its row comes; those left over vanished. */
async function* joinInMemory<L>(side: SideShape<L>, chunks: AsyncIterable<L[]>, pairs: PairsByKey): AsyncGenerator<MatchChunk<L>> {
  const byKey = new Map<string, Row>();
  for await (const pair of pairs.stream()) byKey.set(pairs.key(pair), pair);
  for await (const rows of chunks) {
    if (rows.length === 0) continue;
    const right = new Array<Row | undefined>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const key = side.key(rows[i]!);
      const pair = byKey.get(key);
      if (pair) byKey.delete(key);
      right[i] = pair;
    }
    yield { left: rows, right };
  }
  if (byKey.size > 0) yield vanished([...byKey.values()]);
}

/**
 * The side's rows a chunk at a time, each chunk's pairs looked up by key; then the pairs whose key
 * never came. The next chunk is read and looked up while this one's rows are taken, so neither the
 * state DB's look-up nor the side's read waits for the other.
 */
async function* joinByLookups<L>(side: SideShape<L>, chunks: AsyncIterable<L[]>, pairs: PairsByKey, stateStream: StateClient, vanishedChunk: number): AsyncGenerator<MatchChunk<L>> {
  const seen = await SeenKeys.create(stateStream);
  const order = new KeyOrder();
  const reader = nonEmpty(chunks)[Symbol.asyncIterator]();
  const lookUpNext = async (): Promise<MatchChunk<L> | undefined> => {
    const next = await reader.next();
    return next.done ? undefined : lookUp(side, next.value, pairs, seen, order);
  };
  let ahead = lookUpNext();
  try {
    for (let chunk = await ahead; chunk; chunk = await ahead) {
      ahead = lookUpNext();
      // Marked as handled: a failure comes out at the next await, or not at all when the caller stops early.
      ahead.catch(() => {});
      yield chunk;
    }
  } finally {
    await ahead.catch(() => {});
    await reader.return?.(undefined);
  }
  for await (const gone of inBatches(pairs.stream(await seen.vanished()), vanishedChunk)) yield vanished(gone);
  await seen.drop();
}

/**
 * A chunk of rows with the pairs of their keys, looked up in the state DB (the keys then count as
 * seen). The pairs come back with their row's place in the chunk. With versions on both sides, the
 * pairs that hold their row's version stay in the state DB: only the other rows come back (those
 * without a pair with all pair columns null), and the rest are matched to SAME_VERSION_PAIR.
 */
async function lookUp<L>(side: SideShape<L>, rows: L[], pairs: PairsByKey, seen: SeenKeys, order: KeyOrder): Promise<MatchChunk<L>> {
  const keys = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) keys[i] = side.key(rows[i]!);
  const ascending = order.ascending(keys);
  let stage: ScanStage;
  let right: (Row | undefined)[];
  if (side.version && pairs.sameVersion) {
    const values = new Array<string | null>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = side.version(rows[i]!);
    stage = await seen.add(keys, { values, same: (pair, value) => pairs.sameVersion!(pair, value) }, ascending);
    right = new Array<Row | undefined>(rows.length).fill(SAME_VERSION_PAIR);
  } else {
    stage = await seen.add(keys, undefined, ascending);
    right = new Array<Row | undefined>(rows.length);
  }
  for await (const line of pairs.stream(stage)) {
    // The row's place (from 1) ends the line: what is left is the pair's columns.
    const at = Number(line.pop()) - 1;
    right[at] = line.every((value) => value === null) ? undefined : line;
  }
  return { left: rows, right };
}

/**
 * Whether a side's chunks, taken in turn, come in key order: each chunk's keys strictly ascending,
 * the first above the last of the chunk before (SeenKeys.add then reads their pairs by key range).
 * Once a chunk does not, no later one counts as ascending.
 */
class KeyOrder {
  private last: string | undefined;
  private broken = false;

  ascending(keys: string[]): boolean {
    if (this.broken) return false;
    let previous = this.last;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (previous !== undefined && compareKeys(previous, key) >= 0) {
        this.broken = true;
        return false;
      }
      previous = key;
    }
    this.last = previous;
    return true;
  }
}

/** Pairs without a row. */
function vanished<L>(pairs: Row[]): MatchChunk<L> {
  return { left: new Array<L | undefined>(pairs.length), right: pairs };
}

async function* nonEmpty<T>(chunks: AsyncIterable<T[]>): AsyncGenerator<T[]> {
  for await (const chunk of chunks) if (chunk.length > 0) yield chunk;
}

/** The chunks' matches one by one, each as a KeyMatch. */
async function* oneByOne<L>(chunks: AsyncIterable<MatchChunk<L>>): AsyncGenerator<KeyMatch<L, Row>> {
  for await (const { left, right } of chunks) {
    for (let i = 0; i < left.length; i++) yield keyMatch(left[i], right[i]);
  }
}

function keyMatch<L>(left: L | undefined, right: Row | undefined): KeyMatch<L, Row> {
  if (left === undefined) return { right };
  return right === undefined ? { left } : { left, right };
}

/** Matches grouped into chunks of at most `size`. */
async function* matchesInChunks<L>(matches: AsyncIterable<KeyMatch<L, Row>>, size: number): AsyncGenerator<MatchChunk<L>> {
  for await (const batch of inBatches(matches, size)) {
    yield { left: batch.map((match) => match.left), right: batch.map((match) => match.right) };
  }
}

async function* staged<L>(side: SideShape<L>, rows: AsyncIterable<L>): AsyncGenerator<StagedRow> {
  for await (const row of rows) yield { key: side.key(row), row: side.toRow(row) };
}
