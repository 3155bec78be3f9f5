import type { StoredPair } from '../../store/pairs.js';
import { inBatches } from '../../util/batches.js';
import { failpoint } from '../../util/failpoint.js';
import type { EntityParts } from './parts.js';

/** Pairs whose source row is gone: their target rows are archived (if the flow says so) and the pairs marked. */
export async function handleVanished(parts: EntityParts, gone: StoredPair[]): Promise<void> {
  if (gone.length === 0) return;
  const { plan, ctx, tally } = parts;
  const sourceKeys = gone.map((p) => p.sourceKey);
  if (plan.actions.has('archiveInTarget') && plan.target.archive) {
    await ctx.tx.unit(ctx.target, () =>
      parts.target.setArchived(
        gone.map((p) => plan.target.codec.decode(p.targetKey)),
        true,
      ),
    );
    failpoint('vanished:archived');
    tally.counters.archived += gone.length;
  } else if (!plan.actions.has('deleteInTarget')) {
    tally.counters.sourceGone += gone.length;
  }
  await ctx.tx.unit(ctx.state, () => parts.pairs.markSourceGone(sourceKeys));
}

/** Deletes target rows whose source vanished; runs after all upserts, children before parents. */
export async function deleteVanished(parts: EntityParts): Promise<void> {
  const { plan, ctx, tally } = parts;
  if (parts.noneGone) return;
  // Its pairs are removed by key: after the statistics the pass may have asked for (and off the connection they use).
  await ctx.statistics?.settle();
  for await (const batch of inBatches(parts.pairs.streamGone(ctx.stateStream.client), ctx.batchSize)) {
    const failed = new Set<string>();
    const keys = batch.map((row) => plan.target.codec.decode(row[1]!));
    const deleted = await ctx.tx.unit(ctx.target, () =>
      parts.target.deleteRows(keys, (key, reason) => {
        const encoded = plan.target.codec.encode(key)!;
        failed.add(encoded);
        const sourceKey = batch.find((row) => row[1] === encoded)?.[0] ?? null;
        tally.reject(sourceKey, `delete refused: ${reason}`);
      }),
    );
    await ctx.tx.unit(ctx.state, () => parts.pairs.remove(batch.filter((row) => !failed.has(row[1]!)).map((row) => row[0]!)));
    tally.counters.deleted += deleted;
  }
}
