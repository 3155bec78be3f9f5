import type { StateClient } from './state-connection.js';

let registers = 0;

/**
 * The keys a snapshot file has given so far, each with the line it first came on, kept in a
 * temporary table of the state database instead of in memory: a million-row file's keys cost the
 * reader nothing. The table belongs to the connection, so a crashed run leaves nothing behind.
 */
export class FirstLines {
  private constructor(
    private readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    private readonly table: string,
  ) {}

  static async create(client: StateClient): Promise<FirstLines> {
    const table = `ferry_first_lines_${++registers}`;
    await client.query(`CREATE TEMPORARY TABLE ${table} (key text COLLATE "C" PRIMARY KEY, line bigint NOT NULL)`);
    return new FirstLines(client, table);
  }

  /**
   * Registers a batch of (key, line), in file order, and returns for every line whose key came
   * before (in an earlier batch or earlier in this one) the line it first came on.
   */
  async register(entries: { key: string; line: number }[]): Promise<Map<number, number>> {
    const repeated = new Map<number, number>();
    // Repeats inside the batch are found here; only each key's first line goes to the table.
    const firsts = new Map<string, number>();
    for (const { key, line } of entries) {
      const first = firsts.get(key);
      if (first === undefined) firsts.set(key, line);
      else repeated.set(line, first);
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
    // Some keys came in an earlier batch (rare): the table holds their first line.
    const earlier = await this.client.query<{ key: string; first: string }>(
      `SELECT t.key, t.line AS first FROM unnest($1::text[], $2::bigint[]) AS g(key, line) JOIN ${this.table} t ON t.key = g.key WHERE t.line <> g.line`,
      [keys, lines],
    );
    const firstOf = new Map(earlier.rows.map((r) => [r.key, Number(r.first)]));
    for (const { key, line } of entries) {
      const first = firstOf.get(key);
      if (first !== undefined) repeated.set(line, first);
    }
    return repeated;
  }

  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
