import { ScanStage, type StagedRow } from '../store/scan-stage.js';
import type { StateClient } from '../store/state-connection.js';
import type { Row } from './connector.js';
import { mergeByKey, type KeyMatch } from './merge-join.js';

/** One side's rows, each with its encoded key; `ordered` when they come in the engine's key order. */
export interface KeyedSide<L> {
  rows: AsyncIterable<L>;
  ordered: boolean;
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

/**
 * Joins one side's rows with the pairs by key, like a full outer join in key order. A side that
 * scans in key order (capability `orderedScan`) is merge-joined as it streams; any other side is
 * first staged in the state database (on `stateStream`, the connection that then streams the
 * join), and the state database joins and orders. Either way every row and every pair comes out
 * once, so new, changed, unchanged and vanished rows are told apart exactly alike.
 */
export async function* joinWithPairs<L>(side: KeyedSide<L>, pairs: PairsByKey, stateStream: StateClient): AsyncGenerator<KeyMatch<L, Row>> {
  if (side.ordered) {
    yield* mergeByKey(side.rows, pairs.stream(), (row) => side.key(row), (pair) => pairs.key(pair));
    return;
  }
  const stage = await ScanStage.create(stateStream);
  await stage.load(staged(side));
  for await (const joined of pairs.stream(stage)) {
    const { row, pair } = stage.split(joined);
    yield { ...(row ? { left: side.fromRow(row) } : {}), ...(pair[0] !== null ? { right: pair } : {}) };
  }
  await stage.drop();
}

async function* staged<L>(side: KeyedSide<L>): AsyncGenerator<StagedRow> {
  for await (const row of side.rows) yield { key: side.key(row), row: side.toRow(row) };
}
