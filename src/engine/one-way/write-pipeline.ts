import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows classified between two turns of the event loop while a batch is being written (see `pace`). */
const ROWS_PER_TURN = 64;

/**
 * Keeps one batch in flight: the next batch is read and classified while this one is written.
 * Writes themselves stay strictly sequential, so commit order (and watermark order) is unchanged.
 */
export class WritePipeline {
  private inFlight?: Promise<void>;
  private rows = 0;

  /**
   * Called once per row read (awaited when it returns a promise). A source that has data at hand is read in one macrotask per chunk
   * (hundreds of rows); every answer the batch in flight waits for (a dozen round trips per batch)
   * would wait that long for the event loop. Yielding every few rows lets those answers in.
   */
  pace(): Promise<void> | undefined {
    return this.inFlight && ++this.rows % ROWS_PER_TURN === 0 ? nextTurn() : undefined;
  }

  async start(work: () => Promise<void>): Promise<void> {
    await this.settle();
    const promise = work();
    promise.catch(() => {}); // surfaced by settle
    this.inFlight = promise;
  }

  async settle(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) await pending;
  }
}
