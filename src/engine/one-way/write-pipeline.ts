import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows classified between two turns of the event loop while a batch is being written (see `pace`). */
const ROWS_PER_TURN = 64;

/** The pipeline whose `start` runs the current work, for `WritePipeline.defer`. */
const running = new AsyncLocalStorage<WritePipeline>();

/**
 * Keeps one batch in flight: the next batch is read and classified while this one is written.
 * Writes themselves stay strictly sequential, so commit order (and watermark order) is unchanged.
 * A batch may leave part of its work (`defer`) running past `start`: the next batch starts while
 * it finishes, and `settle` waits for it.
 *
 * The first failure, of a batch or of a deferred part, ends the pipeline: `start` and `settle` throw
 * it from then on, once every part still running has ended, so no batch starts after a failed one
 * and none of the pipeline's statements is still running when the error leaves it.
 */
export class WritePipeline {
  private inFlight?: Promise<void>;
  private readonly tails = new Set<Promise<void>>();
  private failure?: { error: unknown };
  private rows = 0;

  /**
   * Lets the work started by `start` hand part of itself (`tail`) to the pipeline: the next `start`
   * does not wait for it, `settle` does. A failed tail fails the pipeline (see the class). False
   * outside a pipeline's work: the caller waits for the tail itself.
   */
  static defer(tail: Promise<void>): boolean {
    const pipeline = running.getStore();
    if (!pipeline) return false;
    pipeline.tails.add(tail);
    tail.then(
      () => pipeline.tails.delete(tail),
      (error: unknown) => {
        pipeline.tails.delete(tail);
        pipeline.failure ??= { error };
      },
    );
    return true;
  }

  /**
   * Called once per row read (awaited when it returns a promise). A source that has data at hand is read in one macrotask per chunk
   * (hundreds of rows); every answer the batch in flight waits for (a dozen round trips per batch)
   * would wait that long for the event loop. Yielding every few rows lets those answers in.
   */
  pace(): Promise<void> | undefined {
    return (this.inFlight || this.tails.size > 0) && ++this.rows % ROWS_PER_TURN === 0 ? nextTurn() : undefined;
  }

  /** Waits for the batch in flight, then starts `work`; throws instead when anything of the pipeline has failed. */
  async start(work: () => Promise<void>): Promise<void> {
    await this.awaitInFlight();
    if (this.failure) await this.settle(); // throws it, once every tail has ended
    const promise = running.run(this, work);
    promise.catch(() => {}); // surfaced by the next start or settle
    this.inFlight = promise;
  }

  /** Waits for the work in flight and every tail it deferred; throws the pipeline's first failure. */
  async settle(): Promise<void> {
    await this.awaitInFlight();
    while (this.tails.size > 0) await Promise.allSettled([...this.tails]);
    if (this.failure) throw this.failure.error;
  }

  private async awaitInFlight(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) await pending.catch((error: unknown) => void (this.failure ??= { error }));
  }
}
