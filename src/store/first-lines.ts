import type { StateClient } from './state-connection.js';

let registers = 0;

/**
 * Keys kept in memory before the register moves them to the state database: a file of up to this
 * many rows costs no round trip, and memory stays bounded (about 20 MB of short keys) for any file.
 */
export const KEYS_IN_MEMORY = 200_000;

/** Rows per INSERT when the keys in memory move to the table. */
const SPILL_ROWS = 10_000;

/**
 * The keys a snapshot file has given so far, each with the line it first came on: in memory up to
 * a bound, then in a temporary table of the state database, so a million-row file's keys cost the
 * reader no memory. The table belongs to the connection, so a crashed run leaves nothing behind.
 */
export class FirstLines {
  /** The keys so far, until there are more than `memoryKeys` of them; then the table holds them. */
  private memory: Map<string, number> | undefined = new Map();
  /** The move to the table; batches registered while it runs wait for it (the reader overlaps batches). */
  private spilled?: Promise<void>;

  private constructor(
    private readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    private readonly table: string,
    private readonly memoryKeys: number,
  ) {}

  static async create(client: StateClient, memoryKeys = KEYS_IN_MEMORY): Promise<FirstLines> {
    return new FirstLines(client, `ferry_first_lines_${++registers}`, memoryKeys);
  }

  /**
   * Registers a batch of keys and the lines they came on (`lines[i]` is `keys[i]`'s line), in file
   * order, and returns for every line whose key came before (in an earlier batch or earlier in this
   * one) the line it first came on.
   */
  async register(keys: string[], lines: number[]): Promise<Map<number, number>> {
    const memory = this.memory;
    if (!memory) {
      await this.spilled;
      return this.registerInTable(keys, lines);
    }
    const repeated = new Map<number, number>();
    for (let i = 0; i < keys.length; i++) {
      const first = memory.get(keys[i]!);
      if (first === undefined) memory.set(keys[i]!, lines[i]!);
      else repeated.set(lines[i]!, first);
    }
    if (memory.size > this.memoryKeys) {
      // Decided before any await: a batch registered meanwhile goes to the table, after the move.
      this.memory = undefined;
      this.spilled = this.spill([...memory]);
      await this.spilled;
    }
    return repeated;
  }

  /** Moves the keys from memory to a new table; later batches are checked there. */
  private async spill(entries: [string, number][]): Promise<void> {
    await this.client.query(`CREATE TEMPORARY TABLE ${this.table} (key text COLLATE "C" PRIMARY KEY, line bigint NOT NULL)`);
    for (let i = 0; i < entries.length; i += SPILL_ROWS) {
      const slice = entries.slice(i, i + SPILL_ROWS);
      await this.client.query(`INSERT INTO ${this.table} (key, line) SELECT * FROM unnest($1::text[], $2::bigint[])`, [slice.map(([key]) => key), slice.map(([, line]) => line)]);
    }
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
    if (firsts.size === 0) return repeated;
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
    if (!this.spilled) return;
    await this.spilled.catch(() => {});
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
