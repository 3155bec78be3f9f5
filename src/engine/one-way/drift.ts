import type { Row } from '../connector.js';
import { joinWithPairs } from '../key-join.js';
import type { EntityParts } from './parts.js';

/**
 * Full mode only: compares every target row's hash with what Ferry last wrote. Rows edited or
 * deleted on the target behind Ferry's back are marked stale, so the source pass rewrites them.
 */
export async function checkTargetDrift(parts: EntityParts): Promise<void> {
  const { plan, ctx, tally } = parts;
  const width = plan.target.keys.length;
  const matches = joinWithPairs<Row>(
    {
      rows: parts.target.streamHashes(),
      ordered: ctx.target.capabilities.orderedScan,
      key: (row) => plan.target.codec.encode(row.slice(0, width))!,
      toRow: (row) => row,
      fromRow: (row) => row,
    },
    // `[target_key, source_key, target_hash]`
    { stream: (stage) => parts.pairs.streamByTargetKey(ctx.stateStream.client, stage), key: (pair) => pair[0]! },
    ctx.stateStream.client,
  );
  let stale: string[] = [];
  let drifted = 0;
  for await (const { left: row, right: pair } of matches) {
    if (!pair) continue;
    if (!row || row[width] !== pair[2]) {
      stale.push(pair[1]!);
      drifted++;
    }
    if (stale.length >= ctx.batchSize) {
      const keys = stale;
      await ctx.tx.unit(ctx.state, () => parts.pairs.markStale(keys));
      stale = [];
    }
  }
  if (stale.length > 0) await ctx.tx.unit(ctx.state, () => parts.pairs.markStale(stale));
  if (drifted > 0) tally.notes.push(`${drifted} target rows differed from what Ferry last wrote and are rewritten`);
}
