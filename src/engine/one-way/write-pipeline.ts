import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows classified between two turns of the event loop while a batch is being written (see `pace`). */
const ROWS_PER_TURN = 64;

/** The pipeline whose `start` runs the current work, for `WritePipeline.defer`. */
const running = new AsyncLocalStorage<WritePipeline>();

/**
 * Keeps batches in flight: the next batch is read and classified while this one is written. With a
 * `depth` of 2, a batch handed to `start` while one is being written waits in line behind it, and
 * the caller reads the batch after it meanwhile (a write that waits on a server, e.g. for a group's
 * commit, no longer holds the reading up). Writes themselves stay strictly sequential: a batch
 * starts once the one before it has ended, so commit order (and watermark order) is unchanged.
 * A batch may leave part of its work (`defer`) running past its end: the next batch starts while
 * it finishes, and `settle` waits for it.
 *
 * The first failure, of a batch or of a deferred part, ends the pipeline: no batch starts after it
 * (one waiting in line fails with it), and `start` and `settle` throw it from then on, once every
 * part still running has ended, so none of the pipeline's statements is still running when the
 * error leaves it.
 */
export class WritePipeline {
  /** Batches handed to `start` that have not ended, oldest (the one writing) first. */
  private readonly line: Promise<void>[] = [];
  private readonly tails = new Set<Promise<void>>();
  private failure?: { error: unknown };
  private rows = 0;

  /** `depth`: batches that may be in flight at once (writing, or waiting in line to write). */
  constructor(private readonly depth = 1) {}

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
        pipeline.fail(error);
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
    return (this.line.length > 0 || this.tails.size > 0) && ++this.rows % ROWS_PER_TURN === 0 ? nextTurn() : undefined;
  }

  /**
   * Waits until fewer than `depth` batches are in flight, then hands `work` on: it starts once the
   * batch before it has ended. Throws instead when anything of the pipeline has failed.
   */
  async start(work: () => Promise<void>): Promise<void> {
    while (this.line.length >= this.depth) await this.awaitOldest();
    if (this.failure) await this.settle(); // throws it, once every tail has ended
    const before = this.line.at(-1);
    const promise = (async () => {
      if (before) await before.catch(() => {}); // its failure is the pipeline's (below)
      if (this.failure) throw this.failure.error; // no batch starts after a failed one
      await running.run(this, work);
    })();
    promise.catch((error: unknown) => this.fail(error)); // surfaced by the next start or settle
    this.line.push(promise);
  }

  /** Waits for every batch in flight and every tail they deferred; throws the pipeline's first failure. */
  async settle(): Promise<void> {
    while (this.line.length > 0) await this.awaitOldest();
    while (this.tails.size > 0) await Promise.allSettled([...this.tails]);
    if (this.failure) throw this.failure.error;
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
  }

  private async awaitOldest(): Promise<void> {
    const oldest = this.line.shift();
    if (oldest) await oldest.catch(() => {});
  }
}
