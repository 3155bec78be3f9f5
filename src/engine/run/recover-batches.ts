import type { Logger } from 'pino';
import { PairStore } from '../../store/pairs.js';
import type { RunState } from '../../store/run-state.js';
import type { StateConnection } from '../../store/state-connection.js';
import { drawsKeys, type Session } from '../connector.js';
import type { EntityPlan } from '../plan.js';
import { TransactionOutcomes } from '../transaction-outcomes.js';

/**
 * A batch interrupted between its pairs commit and its target commit left a marker. Compare the
 * marked pairs with the target: rows that landed differently are marked stale so this run rewrites them.
 *
 * Rows that did not land under a key drawn from the target (`generatedKeys: 'drawn'`, a PostgreSQL
 * sequence) lose their pair instead: a draw inside a target transaction that never committed is not
 * durable, so a target server killed before that commit hands the same keys out again after its
 * restart (nextval's WAL record was still in the killed server's memory). Rewriting such a pair's row
 * under its old key would put it where the next new row is about to be written: one of the two rows
 * is lost. Only keys of rows that committed are sure never to be drawn again.
 *
 * A key handed out again may also have been taken by another writer (an application) before this
 * run: a row is there, but not Ferry's. A marker that names its target transaction (the pairs new
 * in their batch, on a target with capability `transactionOutcome`, see InflightMarker) settles it:
 * when the target says that transaction aborted, no row of the batch landed, whatever sits under its
 * keys now, so every pair of the marker goes, as before the batch, and its records are matched or
 * created anew under keys drawn now, without touching the rows found. When it committed, or the target no longer knows (too
 * old), the rows are compared as above. The answer is sound after a crash of Ferry, a lost
 * connection, or a sequence set back by hand; after a target server crash that lost WAL, the server
 * may hand the same transaction id out again, and its answer is then no worse than the comparison.
 */
export async function recoverInterruptedBatches(
  runState: RunState,
  plans: Map<string, EntityPlan>,
  state: StateConnection,
  target: Session,
  flowId: string,
  logger: Logger,
): Promise<void> {
  const outcomes = new TransactionOutcomes(target, 'the target');
  for (const marker of await runState.pendingInflight()) {
    const plan = plans.get(marker.entity);
    if (plan) {
      const pairs = new PairStore(state.client, flowId, marker.entity);
      const known = await pairs.bySourceKeys(marker.sourceKeys);
      const drawn = drawsKeys(plan.target.keyMode, target.capabilities) && plan.actions.has('createInTarget');
      if (drawn && (await outcomes.of(marker.targetTransaction)) === 'aborted') {
        const unlanded = [...known.keys()];
        await pairs.remove(unlanded);
        logger.warn({ entity: marker.entity, batch: marker.sourceKeys.length, unlanded: unlanded.length, targetTransaction: 'aborted' }, 'recovered an interrupted batch');
        await runState.endInflight(marker.id);
        continue;
      }
      const targetKeys = [...known.values()].map((p) => plan.target.codec.decode(p.targetKey));
      const current = await target.writer(plan).currentHashes(targetKeys);
      const differing = [...known.values()].filter((p) => current.get(p.targetKey) !== p.targetHash);
      // A drawn key whose row never landed may be drawn again (see the comment above): its pair goes,
      // and the record is created anew under a key drawn now.
      const unlanded = drawn ? differing.filter((p) => !current.has(p.targetKey)).map((p) => p.sourceKey) : [];
      const stale = differing.filter((p) => !drawn || current.has(p.targetKey)).map((p) => p.sourceKey);
      await pairs.remove(unlanded);
      await pairs.markStale(stale);
      logger.warn({ entity: marker.entity, batch: marker.sourceKeys.length, stale: stale.length, unlanded: unlanded.length }, 'recovered an interrupted batch');
    }
    await runState.endInflight(marker.id);
  }
}
