import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { escapeCopyField } from '../util/copy-text.js';
import type { Row } from '../util/copy-out.js';
import type { StateClient } from './state-connection.js';

/** One staged row: its encoded key and the row itself, as the side's reader returned it. */
export interface StagedRow {
  key: string;
  row: Row;
}

/** COPY data is sent in chunks of about this many characters, so memory stays flat however large the scan. */
const CHUNK_CHARS = 256 * 1024;
let stages = 0;

/**
 * The rows of a scan that does not come in key order (a connector without `orderedScan`), staged in
 * the state database so that they can be joined with the pairs there instead of merge-joined in
 * the engine. A stage is a temporary table of the connection that loads it, which is also the one
 * that streams the join: it holds a run's rows only, and disappears with the connection, so a run
 * that crashes leaves nothing behind. Rows are stored as JSON text, keys under collation "C" like
 * the pairs, so the join comes back in the engine's key order.
 */
export class ScanStage {
  private constructor(
    readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    readonly table: string,
  ) {}

  static async create(client: StateClient): Promise<ScanStage> {
    const table = `ferry_scan_stage_${++stages}`;
    await client.query(`CREATE TEMPORARY TABLE ${table} (key text COLLATE "C" NOT NULL, row text NOT NULL)`);
    return new ScanStage(client, table);
  }

  /** Streams the rows in with COPY; a slow state database slows the read of the side (backpressure). */
  async load(rows: AsyncIterable<StagedRow>): Promise<void> {
    await pipeline(Readable.from(copyText(rows)), this.client.query(copyFrom(`COPY ${this.table} (key, row) FROM STDIN`)));
    await this.client.query(`ANALYZE ${this.table}`);
  }

  /**
   * A query joining the staged rows with `pairs` (a query over ferry.pairs with a `keyColumn`) like a
   * full outer join, in key order: `[stagedRowJson, ...pair columns]`, either side null when absent.
   */
  joinSql(pairs: string, keyColumn: string): string {
    return `SELECT s.row, p.* FROM ${this.table} s FULL JOIN (${pairs}) p ON p.${keyColumn} = s.key ORDER BY coalesce(s.key, p.${keyColumn})`;
  }

  /** Drops the table once its join has been read to the end (a failed run's stage goes with its connection). */
  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}

async function* copyText(rows: AsyncIterable<StagedRow>): AsyncGenerator<string> {
  let text = '';
  for await (const { key, row } of rows) {
    text += `${escapeCopyField(key)}\t${escapeCopyField(JSON.stringify(row))}\n`;
    if (text.length >= CHUNK_CHARS) {
      yield text;
      text = '';
    }
  }
  if (text.length > 0) yield text;
}

/** The staged row of one joined line (its first column), or undefined when only the pair side has the key. */
export function stagedRowOf(joined: Row): Row | undefined {
  return joined[0] === null ? undefined : (JSON.parse(joined[0]) as Row);
}
