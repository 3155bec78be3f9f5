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
    if (entries.length === 0) return new Map();
    // The SELECT sees the table as it was before this statement's INSERT: earlier batches only.
    const result = await this.client.query<{ line: string; first: string }>(
      `WITH given AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS g(key, line)),
            added AS (INSERT INTO ${this.table} (key, line)
                      SELECT DISTINCT ON (key) key, line FROM given ORDER BY key, line
                      ON CONFLICT (key) DO NOTHING)
       SELECT line, first FROM (
         SELECT g.line, coalesce(t.line, min(g.line) OVER (PARTITION BY g.key)) AS first
         FROM given g LEFT JOIN ${this.table} t ON t.key = g.key) d
       WHERE line <> first`,
      [entries.map((e) => e.key), entries.map((e) => e.line)],
    );
    return new Map(result.rows.map((r) => [Number(r.line), Number(r.first)]));
  }

  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
