/**
 * Keeps one batch in flight: the next batch is read and classified while this one is written.
 * Writes themselves stay strictly sequential, so commit order (and watermark order) is unchanged.
 */
export class WritePipeline {
  private inFlight?: Promise<void>;

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
