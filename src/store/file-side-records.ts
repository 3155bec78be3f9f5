import type { StateDb } from './state-connection.js';

/** Records read per query when streaming them all. */
const PAGE = 5000;

/** Names of a dry run's temporary tables: a counter of our own, never a value from a spec. */
let dryRunCopies = 0;

/** One line of a delta file: its key, its place in file order, and its row, or null when it marks the record deleted. */
export interface FileSideLine<T> {
  key: string;
  position: string;
  row: T | null;
}

/**
 * The records of one Delta-files entity of a two-way flow (`ferry.file_side_records`): per key, the
 * row of its newest line. Lines are applied in file order; a line never replaces a newer one, so
 * applying a file again (a re-run after a crash) changes nothing.
 */
export class FileSideRecords<T> {
  constructor(
    private readonly db: StateDb,
    private readonly flow: string,
    private readonly entity: string,
    /** `ferry.file_side_records`, or a dry run's temporary copy of the entity's records. */
    private readonly table = 'ferry.file_side_records',
  ) {}

  /**
   * A dry run's records: the entity's records copied into a temporary table of `db`'s session, which
   * the run's lines update and its reads see, and which goes with the session. The records kept, and
   * the mark of the files they hold, stay as they were: a real run later applies the same files.
   */
  static async dryRunCopy<T>(db: StateDb, flow: string, entity: string): Promise<FileSideRecords<T>> {
    const table = `ferry_dry_side_records_${++dryRunCopies}`;
    await db.query(`CREATE TEMPORARY TABLE ${table} (LIKE ferry.file_side_records INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    await db.query(`INSERT INTO ${table} SELECT * FROM ferry.file_side_records WHERE flow = $1 AND entity = $2`, [flow, entity]);
    return new FileSideRecords<T>(db, flow, entity, table);
  }

  /**
   * The last file (its id) whose lines are in the records, kept under the empty key, which no record
   * has (a file line without a key is rejected); undefined before the first run that keeps them.
   * A file imported after it by a run that did not keep them (a OneWay run) is missing from them.
   */
  async recordedThrough(): Promise<number | undefined> {
    const found = await this.db.query<{ position: string }>(`SELECT position FROM ${this.table} WHERE flow = $1 AND entity = $2 AND key = ''`, [this.flow, this.entity]);
    return found.rows[0] ? Number(found.rows[0].position) : undefined;
  }

  /** Records that the lines of every file up to this one (its id) are in. */
  async markRecordedThrough(fileId: number): Promise<void> {
    const mark = String(fileId).padStart(12, '0');
    await this.db.query(
      `INSERT INTO ${this.table} AS r (flow, entity, key, position, row) VALUES ($1, $2, '', $3, NULL)
       ON CONFLICT (flow, entity, key) DO UPDATE SET position = EXCLUDED.position WHERE r.position < EXCLUDED.position`,
      [this.flow, this.entity, mark],
    );
  }

  /** Whether the entity has pairs (ferry.pairs) already. */
  async paired(): Promise<boolean> {
    const found = await this.db.query(
      `SELECT 1 FROM ferry.pairs WHERE scope = (SELECT id FROM ferry.pair_scopes WHERE flow = $1 AND entity = $2) LIMIT 1`,
      [this.flow, this.entity],
    );
    return (found.rowCount ?? 0) > 0;
  }

  /** Applies lines: per key, the one with the newest position counts (of equal ones, the later). */
  async apply(lines: FileSideLine<T>[]): Promise<void> {
    // One statement cannot touch a row twice.
    const newest = new Map<string, FileSideLine<T>>();
    for (const line of lines) {
      const seen = newest.get(line.key);
      if (!seen || seen.position <= line.position) newest.set(line.key, line);
    }
    const last = [...newest.values()];
    if (last.length === 0) return;
    await this.db.query(
      `INSERT INTO ${this.table} AS r (flow, entity, key, position, row)
       SELECT $1, $2, k, p, v FROM unnest($3::text[], $4::text[], $5::jsonb[]) AS u(k, p, v)
       ON CONFLICT (flow, entity, key) DO UPDATE SET position = EXCLUDED.position, row = EXCLUDED.row
       WHERE r.position <= EXCLUDED.position`,
      [this.flow, this.entity, last.map((l) => l.key), last.map((l) => l.position), last.map((l) => (l.row === null ? null : JSON.stringify(l.row)))],
    );
  }

  /** The rows of these keys that exist (not deleted). */
  async byKeys(keys: string[]): Promise<T[]> {
    if (keys.length === 0) return [];
    const found = await this.db.query<{ row: T }>(
      `SELECT row FROM ${this.table} WHERE flow = $1 AND entity = $2 AND key = ANY($3::text[]) AND row IS NOT NULL`,
      [this.flow, this.entity, keys],
    );
    return found.rows.map((r) => r.row);
  }

  /** Every existing record, a page at a time (memory stays flat). */
  async *all(): AsyncGenerator<T> {
    let after: string | null = null;
    for (;;) {
      const page: { key: string; row: T }[] = (
        await this.db.query<{ key: string; row: T }>(
          `SELECT key, row FROM ${this.table}
           WHERE flow = $1 AND entity = $2 AND row IS NOT NULL AND ($3::text IS NULL OR key > $3)
           ORDER BY key LIMIT ${PAGE}`,
          [this.flow, this.entity, after],
        )
      ).rows;
      for (const r of page) yield r.row;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }
}
