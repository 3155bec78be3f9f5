import type { StateClient } from './state-connection.js';

let stages = 0;

/**
 * Rows of a source that cannot be read by key (a file), staged once by key in a temporary table of
 * the state database, so each later lookup by key is one query instead of another read of the whole
 * file, and memory stays flat. The first row of a key wins. The table belongs to the connection, so
 * a crashed run leaves nothing behind.
 */
export class StagedRows<T> {
  private constructor(
    private readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    private readonly table: string,
  ) {}

  static async create<T>(client: StateClient): Promise<StagedRows<T>> {
    const table = `ferry_staged_rows_${++stages}`;
    await client.query(`CREATE TEMPORARY TABLE ${table} (key text COLLATE "C" PRIMARY KEY, row jsonb NOT NULL)`);
    return new StagedRows<T>(client, table);
  }

  async add(entries: { key: string; row: T }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.client.query(`INSERT INTO ${this.table} (key, row) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (key) DO NOTHING`, [
      entries.map((e) => e.key),
      entries.map((e) => JSON.stringify(e.row)),
    ]);
  }

  async byKeys(keys: string[]): Promise<T[]> {
    if (keys.length === 0) return [];
    const found = await this.client.query<{ row: T }>(`SELECT row FROM ${this.table} WHERE key = ANY($1::text[])`, [keys]);
    return found.rows.map((r) => r.row);
  }
}
