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
 */
export class WritePipeline {
  private inFlight?: Promise<void>;
  private readonly tails = new Set<Promise<void>>();
  private rows = 0;

  /**
   * Lets the work started by `start` hand part of itself (`tail`) to the pipeline: the next `start`
   * does not wait for it, `settle` does (and rethrows its failure). False outside a pipeline's work:
   * the caller waits for the tail itself.
   */
  static defer(tail: Promise<void>): boolean {
    const pipeline = running.getStore();
    if (!pipeline) return false;
    pipeline.tails.add(tail);
    tail.then(
      () => pipeline.tails.delete(tail),
      () => {}, // surfaced by settle
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

  async start(work: () => Promise<void>): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) await pending;
    const promise = running.run(this, work);
    promise.catch(() => {}); // surfaced by settle
    this.inFlight = promise;
  }

  /** Waits for the work in flight and every tail it deferred. */
  async settle(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) await pending;
    while (this.tails.size > 0) {
      const tails = [...this.tails];
      this.tails.clear();
      for (const tail of tails) await tail;
    }
  }
}
