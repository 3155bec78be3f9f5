import { refreshPairStatistics } from '../../store/pairs-statistics.js';
import type { StateClient } from '../../store/state-connection.js';

/**
 * The refresh of ferry.pairs' statistics that a pass asks for at its end (see refreshPairStatistics:
 * after a bulk load, look-ups by key need the pairs counted). Its ANALYZE (0.4-0.5 s at 1M fresh
 * pairs) runs while the run goes on with what reads no pair by key (the category counts, the
 * watermarks); whatever does look pairs up waits for it first (`settle`): the next entity's pass,
 * the deletion of vanished rows, and the run's end, so no later run meets the old statistics either.
 *
 * A refresh runs on the requesting lane's `stateStream`, idle once the pass has ended; everything
 * that uses that connection afterwards settles first. Refreshes run one at a time, in request order.
 * A failed refresh fails the run at the next `settle`, as it failed the pass before.
 */
export class StatisticsRefresh {
  private pending: Promise<unknown> = Promise.resolve();
  private failure?: { error: unknown };

  /** Starts a refresh on `client` after a pass that wrote `written` pairs (behind the one running, if any). */
  request(client: StateClient, written: number): void {
    this.pending = this.pending
      .then(() => refreshPairStatistics(client, written))
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
  }

  /** Waits for every refresh asked for; throws the first failure. */
  async settle(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure.error;
  }
}
