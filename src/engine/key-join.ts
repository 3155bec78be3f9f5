import { PAIR_COUNT, StagedScan, type ScanStage, type StagedRow } from '../store/scan-stage.js';
import type { StateClient } from '../store/state-connection.js';
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
}

/** A side that gives each key once is joined in its own order when there are at most this many pairs (some 25 MB of pair rows in memory). */
export const PAIRS_IN_MEMORY = 100_000;

/**
 * Joins one side's rows with the pairs by key, like a full outer join: every row and every pair
 * comes out once, so new, changed, unchanged and vanished rows are told apart exactly alike.
 *
 * - A side that scans in key order (capability `orderedScan`) is merge-joined as it streams.
 * - A side without key order that gives each key once (`uniqueKeys`), with at most `pairsInMemory`
 *   pairs, keeps its own order: the pairs are held in memory by key, each row comes with its pair,
 *   and the vanished pairs follow in key order. Its rows never go to the state DB.
 * - Any other side is staged in the state database (on `stateStream`, the connection that then
 *   streams the join), which joins and orders by key: a repeated key's rows come one after the
 *   other, and a run's writes keep one order whatever order the side scanned in. (Looking the
 *   pairs up a chunk of keys at a time instead was tried: a pairs table not yet analysed after a
 *   bulk load can get a plan that scans every pair for every chunk.)
 */
export async function* joinWithPairs<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient, pairsInMemory = PAIRS_IN_MEMORY): AsyncGenerator<KeyMatch<L, Row>> {
  if (side.ordered) {
    yield* mergeByKey(side.rows, pairs.stream(), (row) => side.key(row), (pair) => pairs.key(pair));
    return;
  }
  if (side.uniqueKeys && (await pairCount(pairs)) <= pairsInMemory) {
    yield* joinInMemory(side, pairs);
    return;
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

async function* staged<L>(side: KeyedSide<L>): AsyncGenerator<StagedRow> {
  for await (const row of side.rows) yield { key: side.key(row), row: side.toRow(row) };
}
