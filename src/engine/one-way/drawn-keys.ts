import type { DrawnKeyList, TableWriter } from '../connector.js';

/**
 * New target keys for a target that hands them out before the write (`generatedKeys: 'drawn'`). A
 * batch of a bulk load draws the next batch's keys while its own connection would otherwise wait
 * for the pairs commit, which takes that round trip off the next batch. Keys drawn but never used
 * are gaps in the sequence, as after a rollback: they were never any row's key.
 *
 * The keys wait here flat (`DrawnKeyList`): a one-column key is its value alone until a row takes it.
 */
export class DrawnKeys {
  /** Drawn and not taken yet, `columns` values per key. */
  private ready: string[] = [];
  /** Values per key: 1 until the first draw tells. */
  private columns = 1;
  private pending?: Promise<DrawnKeyList>;
  /** Set while `take` draws keys itself. */
  private taking = false;
  /** Keys asked for ahead while a draw ran: drawn in one go once `take` has the keys drawn before. */
  private wanted = 0;

  constructor(private readonly writer: TableWriter) {}

  /**
   * Starts drawing `count` keys on the writer's connection; `take` waits for them. Never beside
   * another draw: with the batch in flight and a group's commit, a third statement would queue on
   * the connection (node-pg warns, and drops the queue in pg 9). Asked while a draw runs (the
   * reader is two batches ahead of the writer), the keys are drawn when `take` has taken that one.
   */
  drawAhead(count: number): void {
    if (count <= 0) return;
    if (this.pending || this.taking) this.wanted += count;
    else this.draw(count);
  }

  private draw(count: number): void {
    const pending = this.writer.allocateKeys(count);
    pending.catch(() => {}); // drawn again by take
    this.pending = pending;
  }

  /**
   * The next `count` keys. A draw ahead that failed is drawn again here: it was queued behind the
   * batch in flight, and when that batch's COPY failed it ran in the aborted transaction before the
   * batch went back to its savepoint. Nothing was drawn then; an error that lasts surfaces now.
   */
  async take(count: number): Promise<DrawnKeyList> {
    this.taking = true;
    try {
      if (this.pending) {
        const drawn = await this.pending.catch((): undefined => undefined);
        this.pending = undefined;
        if (drawn) this.add(drawn);
      }
      const wanted = count * this.columns;
      // Most draws are taken whole by the batch they were drawn for: the array itself, no copy.
      const taken = this.ready.length <= wanted ? this.ready : this.ready.slice(0, wanted);
      this.ready = this.ready.length <= wanted ? [] : this.ready.slice(wanted);
      if (taken.length < wanted) {
        const more = await this.writer.allocateKeys(count - taken.length / this.columns);
        // The first draw tells how many columns a key has (keys left over came from a draw that did).
        this.columns = more.columns;
        for (let i = 0; i < more.values.length; i++) taken.push(more.values[i]!);
      }
      if (this.wanted > 0) this.draw(this.wanted);
      return { columns: this.columns, values: taken };
    } finally {
      this.taking = false;
      this.wanted = 0;
    }
  }

  private add(drawn: DrawnKeyList): void {
    this.columns = drawn.columns;
    if (this.ready.length === 0) this.ready = drawn.values;
    else for (let i = 0; i < drawn.values.length; i++) this.ready.push(drawn.values[i]!);
  }
}
