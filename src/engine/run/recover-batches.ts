import type { Logger } from 'pino';
import { PairStore } from '../../store/pairs.js';
import type { RunState } from '../../store/run-state.js';
import type { StateConnection } from '../../store/state-connection.js';
import type { Session } from '../connector.js';
import type { EntityPlan } from '../plan.js';

/**
 * A batch interrupted between its pairs commit and its target commit left a marker. Compare the
 * marked pairs with the target: rows that did not land (or landed differently) are marked stale so
 * this run rewrites them.
 */
export async function recoverInterruptedBatches(
  runState: RunState,
  plans: Map<string, EntityPlan>,
  state: StateConnection,
  target: Session,
  flowId: string,
  logger: Logger,
): Promise<void> {
  for (const marker of await runState.pendingInflight()) {
    const plan = plans.get(marker.entity);
    if (plan) {
      const pairs = new PairStore(state.client, flowId, marker.entity);
      const known = await pairs.bySourceKeys(marker.sourceKeys);
      const targetKeys = [...known.values()].map((p) => plan.target.codec.decode(p.targetKey));
      const current = await target.writer(plan).currentHashes(targetKeys);
      const stale = [...known.values()].filter((p) => current.get(p.targetKey) !== p.targetHash).map((p) => p.sourceKey);
      await pairs.markStale(stale);
      logger.warn({ entity: marker.entity, batch: marker.sourceKeys.length, stale: stale.length }, 'recovered an interrupted batch');
    }
    await runState.endInflight(marker.id);
  }
}
