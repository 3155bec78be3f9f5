import { chunksOf } from '../../util/batches.js';
import type { Row } from '../connector.js';
import { joinChunksWithPairs } from '../key-join.js';
import type { EntityParts } from './parts.js';

/** Rows per chunk of a target scan that does not come in chunks of its own. */
const CHUNK_ROWS = 1000;

/**
 * Full mode only: compares every target row's hash with what Ferry last wrote. Rows edited or
 * deleted on the target behind Ferry's back are marked stale, so the source pass rewrites them.
 */
export async function checkTargetDrift(parts: EntityParts): Promise<void> {
  const { plan, ctx, tally } = parts;
  const width = plan.target.keys.length;
  const codec = plan.target.codec;
  // The codec reads the key's parts from the row's front: no copy of them per row.
  const key = (row: Row): string => codec.encode(row)!;
  const pairKey = (pair: Row): string => pair[0]!;
  const client = ctx.stateStream.client;
  // Merged as both stream when the target scans in key order, else staged. `[target_key, source_key, target_hash]`
  const matches = joinChunksWithPairs<Row>(
    { chunks: chunksOf(parts.target.streamHashes(), CHUNK_ROWS), ordered: ctx.target.capabilities.orderedScan, key, toRow: (row) => row, fromRow: (row) => row },
    { stream: (stage) => parts.pairs.streamByTargetKey(client, stage), key: pairKey },
    client,
  );
  let stale: string[] = [];
  let drifted = 0;
  // A record deleted on a target that gives new records new keys cannot be rewritten under its key:
  // its pair is forgotten, so the source pass matches or creates it again.
  const forgetGone = ctx.target.capabilities.newKeyOnRecreate === true && plan.target.keyMode === 'generated' && plan.actions.has('createInTarget');
  const forgotten: string[] = [];
  for await (const { left: rows, right: pairs } of matches) {
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      if (!pair) continue;
      const row = rows[i];
      if (!row && forgetGone) forgotten.push(pair[1]!);
      else if (!row || row[width] !== pair[2]) {
        stale.push(pair[1]!);
        drifted++;
        if (stale.length >= ctx.batchSize) {
          const keys = stale;
          await ctx.tx.unit(ctx.state, () => parts.pairs.markStale(keys));
          stale = [];
        }
      }
    }
  }
  if (stale.length > 0) await ctx.tx.unit(ctx.state, () => parts.pairs.markStale(stale));
  for (let i = 0; i < forgotten.length; i += ctx.batchSize) {
    const keys = forgotten.slice(i, i + ctx.batchSize);
    await ctx.tx.unit(ctx.state, () => parts.pairs.remove(keys));
  }
  if (forgotten.length > 0) tally.notes.push(`${forgotten.length} target records were gone and are matched or created again`);
  if (drifted > 0) tally.notes.push(`${drifted} target rows differed from what Ferry last wrote and are rewritten`);
}
