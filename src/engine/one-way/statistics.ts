import { refreshPairStatistics } from '../../store/pairs-statistics.js';
import type { EntityParts } from './parts.js';

/**
 * At the end of a pass: the pairs' statistics are refreshed if this pass (or others) left them
 * behind, beside the rest of the run when the run takes that on (see StatisticsRefresh), else now.
 */
export async function refreshStatistics(parts: EntityParts): Promise<void> {
  const { ctx, tally } = parts;
  if (ctx.statistics) ctx.statistics.request(ctx.stateStream.client, tally.pairsWritten());
  else await refreshPairStatistics(ctx.state.client, tally.pairsWritten());
}
