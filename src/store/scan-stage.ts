import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { copyIn } from '../util/copy-in.js';
import { COPY_NULL, escapeCopyField } from '../util/copy-text.js';
import type { Row } from '../util/copy-out.js';
import { literal } from '../util/sql.js';
import type { StateClient } from './state-connection.js';

/** One staged row: its encoded key and the row itself, as the side's reader returned it. */
export interface StagedRow {
  key: string;
  row: Row;
}

/** COPY data is sent in chunks of about this many characters, so memory stays flat however large the scan. */
const CHUNK_CHARS = 256 * 1024;
let stages = 0;

/** What the pairs are joined with in the state database: given the pairs' query and key column, the query to stream. */
export interface ScanStage {
  joinSql(pairs: string, keyColumn: string): string;
}

/** The number of pairs, as the one value of the one row its query streams. */
export const PAIR_COUNT: ScanStage = { joinSql: (pairs) => `SELECT count(*) FROM (${pairs}) p` };

/**
 * The rows of a scan that does not come in key order (a connector without `orderedScan`), staged in
 * the state database so that they can be joined with the pairs there instead of merge-joined in
 * the engine. A stage is a temporary table of the connection that loads it, which is also the one
 * that streams the join: it holds a run's rows only, and disappears with the connection, so a run
 * that crashes leaves nothing behind. Keys are stored under collation "C" like the pairs, so a join
 * in key order comes back in the engine's key order.
 *
 * A row is stored as one text column per value (`c1`…, as many as the first row has), so neither
 * side spends time on JSON; a row of another width, or with a NUL character (which a text column
 * cannot hold), is stored as JSON text in `json` instead.
 */
export class StagedScan implements ScanStage {
  /** Values per row (the first row's), known once the rows are loaded. */
  private width = 0;

  private constructor(
    readonly client: StateClient,
    /** A name of our own making (a counter), never a value from a spec. */
    readonly table: string,
  ) {}

  static async create(client: StateClient): Promise<StagedScan> {
    return new StagedScan(client, `ferry_scan_stage_${++stages}`);
  }

  /** Streams the rows in with COPY; a slow state database slows the read of the side (backpressure). */
  async load(rows: AsyncIterable<StagedRow>): Promise<void> {
    const iterator = rows[Symbol.asyncIterator]();
    const first = await iterator.next();
    this.width = first.done ? 0 : first.value.row.length;
    const columns = Array.from({ length: this.width }, (_, i) => `, c${i + 1} text`).join('');
    await this.client.query(`CREATE TEMPORARY TABLE ${this.table} (key text COLLATE "C" NOT NULL, json text${columns})`);
    if (!first.done) {
      await pipeline(Readable.from(copyText(first.value, iterator, this.width)), this.client.query(copyFrom(`COPY ${this.table} FROM STDIN`)));
    }
    await this.client.query(`ANALYZE ${this.table}`);
  }

  /**
   * A query joining the staged rows with `pairs` (a query over ferry.pairs with a `keyColumn`) like a
   * full outer join, in key order: `[stagedKey, json, ...staged values, ...pair columns]` (see
   * `split`), either side null when absent. Key order keeps a run's writes (and the keys a target
   * draws for new rows) in the same order whatever order the side scanned in.
   */
  joinSql(pairs: string, keyColumn: string): string {
    const columns = Array.from({ length: this.width }, (_, i) => `, s.c${i + 1}`).join('');
    return `SELECT s.key, s.json${columns}, p.* FROM ${this.table} s FULL JOIN (${pairs}) p ON p.${keyColumn} = s.key ORDER BY coalesce(s.key, p.${keyColumn})`;
  }

  /** One joined line (see `joinSql`) as the staged row (undefined when only the pair side has the key) and the pair columns. */
  split(joined: Row): { row?: Row; pair: Row } {
    const pair = joined.slice(2 + this.width);
    if (joined[0] === null) return { pair };
    const json = joined[1];
    return { row: json !== null ? (JSON.parse(json) as Row) : joined.slice(2, 2 + this.width), pair };
  }

  /** Drops the table once its join has been read to the end (a failed run's stage goes with its connection). */
  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}

/**
 * The keys a side has given so far, so that at the end the pairs whose key never came are the
 * vanished ones; each chunk's pairs are looked up by its keys on the way. Only keys go to the state
 * DB; the side's rows stay in the engine, in the side's order. Its tables are temporary tables of
 * the connection (gone with it, so a crashed run leaves nothing behind).
 *
 * While the chunks come in ascending key order (a snapshot file written in key order, most are),
 * no key is stored: a chunk's pairs are the pairs in its key range (above the last chunk's last key,
 * up to its own last key), read in one range scan of the primary key, and those the chunk does not
 * have are stored instead (`gone`, a few). The first chunk out of order ends that: its keys and
 * those of every later chunk are stored (`table`), and each key's pair is looked up by a LATERAL
 * subquery with LIMIT 1 per key, which only runs as a loop over the keys; each probes the primary
 * key as long as the planner counts the flow's pairs about right (see pairs-statistics.ts: a flow's
 * 1M pairs bulk-loaded moments ago can be put at one, and then a scan of all of them per key looks
 * as cheap).
 *
 * The vanished pairs are those stored as `gone`, plus those above the ordered chunks' range whose
 * key no stored key matches: with no key stored, a range scan and a probe per `gone` key; else a
 * FULL JOIN with the stored keys, which PostgreSQL runs as a hash or merge join whatever it
 * believes, never as a loop over one side per row of the other (neither does it the range join).
 */
export class SeenKeys {
  /** Whether every chunk so far came in ascending key order (see `add`). */
  private ordered = true;
  /** The last key of the ordered chunks (undefined before the first): their range ends there. */
  private orderedUpTo: string | undefined;

  private constructor(
    private readonly client: StateClient,
    /** Names of our own making (a counter), never a value from a spec. */
    private readonly table: string,
    private readonly gone: string,
  ) {}

  static async create(client: StateClient): Promise<SeenKeys> {
    const n = ++stages;
    const seen = new SeenKeys(client, `ferry_seen_keys_${n}`, `ferry_gone_keys_${n}`);
    await client.query(`CREATE TEMPORARY TABLE ${seen.table} (key text COLLATE "C" NOT NULL); CREATE TEMPORARY TABLE ${seen.gone} (key text COLLATE "C" NOT NULL)`);
    return seen;
  }

  /**
   * Adds a chunk of keys; the stage it returns gives the pairs of these keys (in no particular order),
   * each line the pair's columns then the key's place in `keys` (from 1). With `versions` (the rows'
   * versions, `versions.values[i]` of `keys[i]`), it gives only the keys whose pair does not hold
   * their version as it stands (`versions.same`, an SQL condition of the pair's and the version's
   * expressions), those without a pair too (their pair columns all null): in a chunk of mostly
   * unchanged rows, few lines come back.
   *
   * `ascending`: the caller found the keys in strictly ascending key order (collation "C"), the
   * first above every key of the chunks before. The stage must be streamed once, before the next `add`.
   */
  async add(keys: string[], versions?: { values: (string | null)[]; same: (pair: string, version: string) => string }, ascending = false): Promise<ScanStage> {
    const keyArray = `${textArray(keys)}::text[]`;
    const versionArray = versions ? `, ${textArray(versions.values)}::text[]` : '';
    const unnest = `unnest(${keyArray}${versionArray}) WITH ORDINALITY AS k(key${versions ? ', version' : ''}, i)`;
    this.ordered &&= ascending && keys.length > 0;
    if (this.ordered) {
      const after = this.orderedUpTo;
      const upTo = keys[keys.length - 1]!;
      this.orderedUpTo = upTo;
      return {
        joinSql: (pairs, keyColumn) => {
          const range = `${after !== undefined ? `q.${keyColumn} > ${literal(after)} AND ` : ''}q.${keyColumn} <= ${literal(upTo)}`;
          const differs = versions ? `p.${keyColumn} IS NULL OR (${versions.same('p', 'k.version')}) IS NOT TRUE` : 'true';
          // A FULL JOIN: a hash or merge join of the chunk and its range, whatever the planner believes.
          return (
            `WITH j AS (SELECT p, p.${keyColumn} AS pair_key, k.i, ${differs} AS differs FROM ${unnest}` +
            ` FULL JOIN (SELECT * FROM (${pairs}) q WHERE ${range}) p ON p.${keyColumn} = k.key COLLATE "C"),` +
            ` gone AS (INSERT INTO ${this.gone} (key) SELECT pair_key FROM j WHERE i IS NULL)` +
            ` SELECT (j.p).*, j.i FROM j WHERE j.i IS NOT NULL AND j.differs`
          );
        },
      };
    }
    // Joined, not added to a string a key at a time: one flat string, no string per key (most need no escape).
    await copyIn(this.client, `COPY ${this.table} (key) FROM STDIN`, Buffer.from(`${keys.map(escapeCopyField).join('\n')}\n`));
    if (!versions) {
      return { joinSql: (pairs, keyColumn) => `SELECT p.*, k.i FROM ${unnest} CROSS JOIN LATERAL (${pairOf(pairs, keyColumn)}) p` };
    }
    return {
      joinSql: (pairs, keyColumn) =>
        `SELECT p.*, k.i FROM ${unnest} LEFT JOIN LATERAL (${pairOf(pairs, keyColumn)}) p ON true` +
        ` WHERE p.${keyColumn} IS NULL OR (${versions.same('p', 'k.version')}) IS NOT TRUE`,
    };
  }

  /** The stage of the pairs whose key no chunk had, in key order. */
  async vanished(): Promise<ScanStage> {
    const upTo = this.orderedUpTo;
    // The pairs not in the ordered chunks: those they did not have in their range, and all above it.
    const unmatched = (pairs: string, keyColumn: string) =>
      upTo === undefined
        ? pairs
        : `SELECT p.* FROM ${this.gone} k CROSS JOIN LATERAL (${pairOf(pairs, keyColumn)}) p UNION ALL SELECT * FROM (${pairs}) q WHERE q.${keyColumn} > ${literal(upTo)}`;
    if (this.ordered) return { joinSql: (pairs, keyColumn) => `SELECT * FROM (${unmatched(pairs, keyColumn)}) p ORDER BY p.${keyColumn}` };
    await this.client.query(`ANALYZE ${this.table}`);
    return {
      joinSql: (pairs, keyColumn) =>
        `SELECT p.* FROM ${this.table} s FULL JOIN (${unmatched(pairs, keyColumn)}) p ON p.${keyColumn} = s.key WHERE s.key IS NULL ORDER BY p.${keyColumn}`,
    };
  }

  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.table}, ${this.gone}`);
  }
}

/**
 * The pair of key `k.key` (a LATERAL subquery with LIMIT 1, which only runs as a loop over the keys:
 * see SeenKeys).
 */
function pairOf(pairs: string, keyColumn: string): string {
  return `SELECT * FROM (${pairs}) q WHERE q.${keyColumn} = k.key COLLATE "C" LIMIT 1`;
}

/** A character that an element of `textArray` or the SQL literal around it escapes. */
const ESCAPED_IN_ARRAY = /["\\'\0]/;

/**
 * A `text[]` literal of the values (quoted elements: any character survives; null as NULL). Values
 * that need no escape (keys and hashes, mostly) are joined into one string: no string per value.
 */
function textArray(values: (string | null)[]): string {
  let plain = values.length > 0;
  for (let i = 0; i < values.length && plain; i++) {
    const value = values[i];
    plain = value !== null && value !== undefined && !ESCAPED_IN_ARRAY.test(value);
  }
  if (plain) return `'{"${values.join('","')}"}'`;
  let elements = '';
  for (const value of values) {
    if (elements) elements += ',';
    if (value === null) {
      elements += 'NULL';
      continue;
    }
    const escaped = value.includes('"') || value.includes('\\') ? value.replace(/[\\"]/g, '\\$&') : value;
    elements += `"${escaped}"`;
  }
  return literal(`{${elements}}`);
}

/** COPY text of the rows: `key, json, c1…` per line (see StagedScan). */
async function* copyText(first: StagedRow, rest: AsyncIterator<StagedRow>, width: number): AsyncGenerator<string> {
  const unstored = `\t${COPY_NULL}`.repeat(width);
  let text = line(first, width, unstored);
  // A COPY that fails must not leave the side's scan open.
  try {
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      text += line(next.value, width, unstored);
      if (text.length >= CHUNK_CHARS) {
        yield text;
        text = '';
      }
    }
  } finally {
    await rest.return?.();
  }
  if (text.length > 0) yield text;
}

function line({ key, row }: StagedRow, width: number, unstored: string): string {
  let values = '';
  for (const value of row) {
    if (value !== null && value.includes('\u0000')) return `${escapeCopyField(key)}\t${escapeCopyField(JSON.stringify(row))}${unstored}\n`;
    values += `\t${escapeCopyField(value)}`;
  }
  if (row.length !== width) return `${escapeCopyField(key)}\t${escapeCopyField(JSON.stringify(row))}${unstored}\n`;
  return `${escapeCopyField(key)}\t${COPY_NULL}${values}\n`;
}
