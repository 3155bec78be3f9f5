import { DenseKeyLines, NO_ROOM } from '../../util/dense-key-lines.js';
import type { RepeatedLines } from './key-census.js';

/**
 * Bytes the keys of a snapshot file may take in memory: a million keys of up to about ten ASCII
 * characters fit (about 20 MB), so a file that size is checked in one pass. A bigger file is checked
 * by a key census within the same budget.
 */
export const MEMORY_BYTES = 24 * 1024 * 1024;

/**
 * The keys a snapshot file has given so far, each with the line it first came on, packed in memory
 * up to a byte budget. When a key does not fit, the set is let go and `census` (a `takeKeyCensus` of
 * the whole file, in the same budget) answers that key's line and every later one; the lines
 * answered before stay answered (the census would answer them the same).
 */
export class FirstLines {
  private memory: DenseKeyLines | undefined;
  private census?: Promise<RepeatedLines>;
  /** The census's answers are read forward: each batch is answered after the one registered before it. */
  private answered: Promise<unknown> = Promise.resolve();
  private dropped = false;

  constructor(
    memoryBytes: number,
    private readonly takeCensus: () => Promise<RepeatedLines>,
  ) {
    this.memory = new DenseKeyLines(memoryBytes);
  }

  /** Whether the census answers (the keys did not fit in memory). */
  get counted(): boolean {
    return this.census !== undefined;
  }

  /**
   * Registers a batch of keys and the lines they came on (`lines[i]` is `keys[i]`'s line), in file
   * order, and returns for every line whose key came before (in an earlier batch or earlier in this
   * one) the line it first came on. Answered at once while the keys fit in memory.
   */
  async register(keys: string[], lines: number[]): Promise<Map<number, number>> {
    if (this.dropped) throw new Error('the register of first lines was dropped');
    const repeated = new Map<number, number>();
    let from = 0;
    const memory = this.memory;
    if (memory) {
      for (; from < keys.length; from++) {
        const first = memory.add(keys[from]!, lines[from]!);
        if (first === NO_ROOM) break;
        if (first !== 0) repeated.set(lines[from]!, first);
      }
      if (from === keys.length) return repeated;
      // Let go before the census, which takes a budget of its own.
      this.memory = undefined;
    }
    this.census ??= this.takeCensus();
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

  /** Lets go of the keys; removes the census's files. */
  async drop(): Promise<void> {
    this.dropped = true;
    this.memory = undefined;
    const census = await this.census?.catch(() => undefined);
    await census?.close();
  }
}
