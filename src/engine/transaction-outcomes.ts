import { FerryError } from '../util/errors.js';
import type { Session, TransactionOutcome } from './connector.js';

/** How long a recovery waits for an interrupted run's transaction to end (its session to notice the run is gone). */
const OPEN_TRANSACTION_WAIT_MS = 15_000;
const OPEN_TRANSACTION_POLL_MS = 200;

/**
 * What became of an interrupted run's write transactions on one system (capability
 * `transactionOutcome`), asked once per token: the batches of one group share their transaction.
 * A token from a system without the capability, or none at all, is `unknown`.
 *
 * A transaction can still be open for a moment after its run was killed (its session has not yet
 * noticed), never for long under the run lock: an open one is asked again for a while, then the
 * recovery fails with one line rather than guess.
 */
export class TransactionOutcomes {
  private readonly asked = new Map<string, Promise<TransactionOutcome>>();

  constructor(
    private readonly session: Session,
    /** The system in a sentence: "the target". */
    private readonly what: string,
  ) {}

  of(token: string | undefined): Promise<TransactionOutcome> {
    if (token === undefined || !this.session.capabilities.transactionOutcome || !this.session.transactionOutcome) return Promise.resolve('unknown');
    let outcome = this.asked.get(token);
    if (!outcome) this.asked.set(token, (outcome = this.settled(token)));
    return outcome;
  }

  private async settled(token: string): Promise<TransactionOutcome> {
    const deadline = Date.now() + OPEN_TRANSACTION_WAIT_MS;
    for (;;) {
      const outcome = await this.session.transactionOutcome!(token);
      if (outcome !== 'in progress') return outcome;
      if (Date.now() >= deadline) {
        throw new FerryError(
          `transaction ${token} of an interrupted run is still open on ${this.what} after ${OPEN_TRANSACTION_WAIT_MS / 1000} s: ` +
            `end its session on ${this.what} (or wait until it ends), then run again`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, OPEN_TRANSACTION_POLL_MS));
    }
  }
}
