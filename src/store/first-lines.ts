import { DenseKeyLines, NO_ROOM } from '../util/dense-key-lines.js';
import type { StateClient } from './state-connection.js';

let registers = 0;

/**
 * Bytes the keys in memory may take before the register sends further keys to the state database:
 * a million keys of up to about ten ASCII characters fit (about 20 MB; a file that size costs no
 * round trip), and memory stays bounded for any file.
 */
export const MEMORY_BYTES = 24 * 1024 * 1024;

/**
 * The keys a snapshot file has given so far, each with the line it first came on: packed in memory
 * up to a byte budget, then the keys that do not fit in a temporary table of the state database, so
 * a file of ten million rows takes no more memory than one of a million. The table belongs to the
 * connection, so a crashed run leaves nothing behind.
 */
export class FirstLines {
  /** The keys that fit in the budget; once one did not, it holds no new key and the table takes them. */
  private memory: DenseKeyLines | undefined;
  /** The table's creation; batches that need the table wait for it (the reader overlaps batches). */
  private tableMade?: Promise<unknown>;

  private constructor(
    private readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    private readonly table: string,
    memoryBytes: number,
  ) {
    this.memory = new DenseKeyLines(memoryBytes);
  }

  static async create(client: StateClient, memoryBytes = MEMORY_BYTES): Promise<FirstLines> {
    return new FirstLines(client, `ferry_first_lines_${++registers}`, memoryBytes);
  }

  /**
   * Registers a batch of keys and the lines they came on (`lines[i]` is `keys[i]`'s line), in file
   * order, and returns for every line whose key came before (in an earlier batch or earlier in this
   * one) the line it first came on.
   */
  async register(keys: string[], lines: number[]): Promise<Map<number, number>> {
    const memory = this.memory;
    if (!memory) throw new Error('the register of first lines was dropped');
    const repeated = new Map<number, number>();
    // Keys memory has no room for; a key is either in memory or in the table, never in both.
    const tableKeys: string[] = [];
    const tableLines: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const first = memory.add(keys[i]!, lines[i]!);
      if (first === NO_ROOM) {
        tableKeys.push(keys[i]!);
        tableLines.push(lines[i]!);
      } else if (first !== 0) {
        repeated.set(lines[i]!, first);
      }
    }
    if (tableKeys.length === 0) return repeated;
    // Decided before any await: batches registered meanwhile queue behind this one on the connection.
    this.tableMade ??= this.client.query(`CREATE TEMPORARY TABLE ${this.table} (key text COLLATE "C" PRIMARY KEY, line bigint NOT NULL)`);
    await this.tableMade;
    for (const [line, first] of await this.registerInTable(tableKeys, tableLines)) repeated.set(line, first);
    return repeated;
  }

  private async registerInTable(batchKeys: string[], batchLines: number[]): Promise<Map<number, number>> {
    const repeated = new Map<number, number>();
    // Repeats inside the batch are found here; only each key's first line goes to the table.
    const firsts = new Map<string, number>();
    for (let i = 0; i < batchKeys.length; i++) {
      const first = firsts.get(batchKeys[i]!);
      if (first === undefined) firsts.set(batchKeys[i]!, batchLines[i]!);
      else repeated.set(batchLines[i]!, first);
    }
    const keys = [...firsts.keys()];
    const lines = [...firsts.values()];
    const added = await this.client.query<{ n: number }>(
      `WITH added AS (INSERT INTO ${this.table} (key, line) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (key) DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM added`,
      [keys, lines],
    );
    if (added.rows[0].n === keys.length) return repeated;
    // Some keys came in an earlier batch: the table holds their first line.
    const earlier = await this.client.query<{ key: string; first: string }>(
      `SELECT t.key, t.line AS first FROM unnest($1::text[], $2::bigint[]) AS g(key, line) JOIN ${this.table} t ON t.key = g.key WHERE t.line <> g.line`,
      [keys, lines],
    );
    const firstOf = new Map(earlier.rows.map((r) => [r.key, Number(r.first)]));
    for (let i = 0; i < batchKeys.length; i++) {
      const first = firstOf.get(batchKeys[i]!);
      if (first !== undefined) repeated.set(batchLines[i]!, first);
    }
    return repeated;
  }

  async drop(): Promise<void> {
    this.memory = undefined;
    if (!this.tableMade) return;
    await this.tableMade.catch(() => {});
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
