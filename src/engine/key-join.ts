import { PAIR_COUNT, SeenKeys, StagedScan, type ScanStage, type StagedRow } from '../store/scan-stage.js';
import type { StateClient } from '../store/state-connection.js';
import { inBatches } from '../util/batches.js';
import type { Row } from './connector.js';
import { mergeByKey, type KeyMatch } from './merge-join.js';

/** One side's rows, each with its encoded key; `ordered` when they come in the engine's key order. */
export interface KeyedSide<L> {
  rows: AsyncIterable<L>;
  ordered: boolean;
  /**
   * The side gives each key at most once (a snapshot file, whose reader rejects repeats): a side
   * without key order is then joined in its own order, without staging its rows.
   */
  uniqueKeys?: boolean;
  key(row: L): string;
  /** The row as staged in the state database, and back (only used when the side is not ordered). */
  toRow(row: L): Row;
  fromRow(row: Row): L;
}

/** The pairs of an entity, by the key column the side is joined on; with a stage, joined with it in the state DB. */
export interface PairsByKey {
  stream(stage?: ScanStage): AsyncIterable<Row>;
  key(pair: Row): string;
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
  /** Rows of the side per look-up of their pairs, when the pairs are more. */
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

/** joinWithPairs for a side without key order. */
async function* joinUnordered<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient, bounds: SideOrderBounds): AsyncGenerator<KeyMatch<L, Row>> {
  if (side.uniqueKeys) {
    const count = await pairCount(pairs);
    if (count <= bounds.pairsInMemory || (await pairs.fitForLookups?.(count))) {
      yield* count <= bounds.pairsInMemory ? joinInMemory(side, pairs) : joinByLookups(side, pairs, stateStream, bounds.lookupRows);
      return;
    }
  }
  const stage = await StagedScan.create(stateStream);
  await stage.load(staged(side));
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
async function* joinInMemory<L>(side: KeyedSide<L>, pairs: PairsByKey): AsyncGenerator<KeyMatch<L, Row>> {
  const byKey = new Map<string, Row>();
  for await (const pair of pairs.stream()) byKey.set(pairs.key(pair), pair);
  for await (const row of side.rows) {
    const key = side.key(row);
    const pair = byKey.get(key);
    if (pair) byKey.delete(key);
    yield pair ? { left: row, right: pair } : { left: row };
  }
  for (const pair of byKey.values()) yield { right: pair };
}

/**
 * The side's rows a chunk at a time, each chunk's pairs looked up by key; then the pairs whose key
 * never came. The next chunk is read and looked up while this one's rows are taken, so neither the
 * state DB's look-up nor the side's read waits for the other.
 */
async function* joinByLookups<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient, lookupRows: number): AsyncGenerator<KeyMatch<L, Row>> {
  const seen = await SeenKeys.create(stateStream);
  const chunks = inBatches(side.rows, lookupRows)[Symbol.asyncIterator]();
  const lookUpNext = async (): Promise<LookedUp<L> | undefined> => {
    const next = await chunks.next();
    if (next.done) return undefined;
    const keys = next.value.map((row) => side.key(row));
    const found = new Map<string, Row>();
    for await (const pair of pairs.stream(await seen.add(keys))) found.set(pairs.key(pair), pair);
    return { rows: next.value, keys, found };
  };
  let ahead = lookUpNext();
  try {
    for (let chunk = await ahead; chunk; chunk = await ahead) {
      ahead = lookUpNext();
      // Marked as handled: a failure comes out at the next await, or not at all when the caller stops early.
      ahead.catch(() => {});
      const { rows, keys, found } = chunk;
      for (let i = 0; i < rows.length; i++) {
        const pair = found.get(keys[i]!);
        yield pair ? { left: rows[i]!, right: pair } : { left: rows[i]! };
      }
    }
  } finally {
    await ahead.catch(() => {});
    await chunks.return?.(undefined);
  }
  for await (const pair of pairs.stream(await seen.vanished())) yield { right: pair };
  await seen.drop();
}

/** One chunk of the side's rows, their keys, and the pairs found for them by key. */
interface LookedUp<L> {
  rows: L[];
  keys: string[];
  found: Map<string, Row>;
}

async function* staged<L>(side: KeyedSide<L>): AsyncGenerator<StagedRow> {
  for await (const row of side.rows) yield { key: side.key(row), row: side.toRow(row) };
}
