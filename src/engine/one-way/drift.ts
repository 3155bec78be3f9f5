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
  // A record deleted on a target that gives new records new keys cannot be rewritten under its key:
  // its pair is forgotten, so the source pass matches or creates it again.
  const forgetGone = ctx.target.capabilities.newKeyOnRecreate === true && plan.target.keyMode === 'generated' && plan.actions.has('createInTarget');
  const forgotten: string[] = [];
  for await (const { left: row, right: pair } of matches) {
    if (!pair) continue;
    if (!row && forgetGone) {
      forgotten.push(pair[1]!);
      continue;
    }
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
  for (let i = 0; i < forgotten.length; i += ctx.batchSize) {
    const keys = forgotten.slice(i, i + ctx.batchSize);
    await ctx.tx.unit(ctx.state, () => parts.pairs.remove(keys));
  }
  if (forgotten.length > 0) tally.notes.push(`${forgotten.length} target records were gone and are matched or created again`);
  if (drifted > 0) tally.notes.push(`${drifted} target rows differed from what Ferry last wrote and are rewritten`);
}
