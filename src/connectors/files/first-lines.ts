import { DenseKeyLines, NO_ROOM } from '../../util/dense-key-lines.js';
import type { RepeatedLines } from './key-census.js';

/**
 * Bytes the keys of a snapshot file may take in memory: a million keys of up to about ten ASCII
 * characters fit (about 20 MB), so a file that size is checked in one pass. A bigger file is checked
 * by a key census within the same budget.
 */
export const MEMORY_BYTES = 24 * 1024 * 1024;

/**
 * Keys kept in memory while every key has come in order: a file out of order within them goes on
 * in memory; one still in order after them keeps no key at all (and is counted by a census, should
 * a key come out of order later).
 */
export const KEYS_KEPT_IN_ORDER = 10_000;

/** Share of a file read before the keys kept are projected to its end (a smaller share says too little). */
export const FIRST_PROJECTION = 0.02;
/** How far past the budget the projection must go to take a census early (a census not needed costs a pass over the file). */
const PROJECTION_MARGIN = 1.1;

/**
 * Whether the keys given so far have each come after the one before in one of two orders: by
 * UTF-16 code units (zero-padded numbers, dates, keys the engine encodes in order), or by length
 * first (E1, E2, … E10: numbers without padding). Keys that ascend in either are all different.
 */
export class KeyOrderWatch {
  private last: string | undefined;
  private byUnits = true;
  private byLength = true;

  /** Takes the next key: true while the keys so far, this one too, ascend in one of the orders. */
  follows(key: string): boolean {
    const last = this.last;
    this.last = key;
    if (last === undefined) return true;
    this.byUnits &&= key > last;
    this.byLength &&= key.length > last.length || (key.length === last.length && key > last);
    return this.byUnits || this.byLength;
  }
}

/**
 * The keys a snapshot file has given so far, each with the line it first came on. While the keys
 * come in order no key can repeat, and none is kept past the first `KEYS_KEPT_IN_ORDER`. Out of
 * order, the keys are packed in memory up to a byte budget. When a key cannot be answered so (its
 * set does not fit, or was let go while the keys were in order), `census` (a `takeKeyCensus` of the
 * whole file, in the same budget) answers that key's line and every later one; the lines answered
 * before stay answered (the census would answer them the same). The census starts early when the
 * keys in memory, grown in proportion to the rest of the file, would not fit: it reads the file
 * while memory still answers.
 */
export class FirstLines {
  private order: KeyOrderWatch | undefined = new KeyOrderWatch();
  /** Every key so far with its first line, while they fit and, in order, while there are few. */
  private memory: DenseKeyLines | undefined;
  private kept = 0;
  private census?: Promise<RepeatedLines>;
  /** Whether the census answers (memory could not, from some key on). */
  private censusAnswers = false;
  /** The census's answers are read forward: each batch is answered after the one registered before it. */
  private answered: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  private dropped = false;

  constructor(
    private readonly memoryBytes: number,
    /** Takes a census of the file; `signal` aborts its reading when it is no longer needed. */
    private readonly takeCensus: (signal: AbortSignal) => Promise<RepeatedLines>,
  ) {
    this.memory = new DenseKeyLines(memoryBytes);
  }

  /** Whether the census answers (the keys did not fit in memory). */
  get counted(): boolean {
    return this.censusAnswers;
  }

  /** Whether a census was taken, whether or not it came to answer. */
  get censusTaken(): boolean {
    return this.census !== undefined;
  }

  /**
   * Registers a batch of keys and the lines they came on (`lines[i]` is `keys[i]`'s line), in file
   * order, and returns for every line whose key came before (in an earlier batch or earlier in this
   * one) the line it first came on. Answered at once unless the census answers. `progress`: the
   * share of the file read so far, when the reader knows it.
   */
  async register(keys: string[], lines: number[], progress?: number): Promise<Map<number, number>> {
    if (this.dropped) throw new Error('the register of first lines was dropped');
    const repeated = new Map<number, number>();
    let from = 0;
    if (!this.censusAnswers) {
      for (; from < keys.length; from++) {
        const first = this.firstLineOf(keys[from]!, lines[from]!);
        if (first === NO_ROOM) break;
        if (first !== 0) repeated.set(lines[from]!, first);
      }
      if (from === keys.length) {
        this.foresee(progress);
        return repeated;
      }
      this.census ??= this.takeCensus(this.abort.signal);
      this.censusAnswers = true;
    }
    const answer = this.answered.then(async () => {
      const census = await this.census!;
      for (let i = from; i < keys.length; i++) {
        const first = census.firstOf(lines[i]!);
        if (first !== 0) repeated.set(lines[i]!, first);
      }
      return repeated;
    });
    this.answered = answer.catch(() => {});
    return answer;
  }

  /** The line `key` first came on, 0 on this one, or NO_ROOM when memory cannot tell (memory then let go). */
  private firstLineOf(key: string, line: number): number {
    if (this.order?.follows(key)) {
      if (this.memory && this.memory.add(key, line) === NO_ROOM) this.memory = undefined;
      // Let go: past this many keys in order, a file is most likely in order to its end.
      if (++this.kept === KEYS_KEPT_IN_ORDER) this.memory = undefined;
      return 0;
    }
    this.order = undefined;
    const first = this.memory ? this.memory.add(key, line) : NO_ROOM;
    // Let go before the census, which takes a budget of its own.
    if (first === NO_ROOM) this.memory = undefined;
    return first;
  }

  /**
   * Takes the census now when the keys in memory, at the rate they grew over the share of the file
   * read, would outgrow the budget before its end: its pass over the file then overlaps the rows
   * memory still answers, instead of holding up the rows after them.
   */
  private foresee(progress: number | undefined): void {
    const memory = this.memory;
    if (this.census || this.order || !memory || progress === undefined || !(progress >= FIRST_PROJECTION)) return;
    if (memory.usedBytes <= PROJECTION_MARGIN * this.memoryBytes * progress) return;
    this.census = this.takeCensus(this.abort.signal);
    // Surfaced if it comes to answer; a census not needed after all is aborted by `drop`.
    this.census.catch(() => {});
  }

  /** Lets go of the keys; stops a census still reading and removes its files. */
  async drop(): Promise<void> {
    this.dropped = true;
    this.memory = undefined;
    this.abort.abort();
    const census = await this.census?.catch(() => undefined);
    await census?.close();
  }
}
