import type { RowRejection } from '../../engine/connector.js';
import { applyWithBisection } from '../bisect.js';
import { rowErrorReason, unitOfWork } from './bisect.js';
import type { Db } from './db.js';
import { ident, placeholders, qualified, sql, type Sql } from './sql.js';
import { fromStageText, toColumnText, ValueError, type ColumnType } from './values.js';

export interface StageColumn {
  name: string;
  type: ColumnType;
}

export interface StagedRow {
  seq: number;
  values: (string | null)[];
}

// Errors that mean the server will not take LOAD DATA LOCAL (disabled on either side).
const LOCAL_INFILE_REFUSED = new Set([1148, 2068, 3948, 4166]);
const INSERT_BUCKETS = [256, 64, 16, 4, 1];

function localInfileRefused(error: unknown): boolean {
  const errno = error instanceof Error && 'errno' in error ? error.errno : undefined;
  return typeof errno === 'number' && LOCAL_INFILE_REFUSED.has(errno);
}

// Tab, backslash and newline as hex literals: the statement reads the same whatever the sql_mode says about backslashes.
const LOAD_FORMAT = "CHARACTER SET utf8mb4 FIELDS TERMINATED BY X'09' ESCAPED BY X'5C' LINES TERMINATED BY X'0A'";

/** Rows as LOAD DATA's default text format: tab-separated, backslash escapes, \N for null. */
function loadFile(rows: { seq: number; values: (string | null)[] }[], numbered: boolean): Buffer {
  let text = '';
  rows.forEach((row, rn) => {
    text += (numbered ? `${rn}\t` : '') + [String(row.seq), ...row.values.map(loadField)].join('\t') + '\n';
  });
  return Buffer.from(text, 'utf8');
}

function loadField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\t\n\r\0]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\0'));
}

/**
 * Rows on their way into a table: a temporary table created from the target's own columns, so the
 * server judges each value exactly as the target would. The fast path is one
 * `LOAD DATA LOCAL INFILE` into it. LOCAL loads turn value errors into warnings (the server cannot
 * stop the client's file), so a load with any warning is undone and the rows take the exact path:
 * loaded as text into a raw table (or multi-row inserts where the server refuses local files),
 * then cast into the stage in strict mode, bisecting so that only the refused rows are rejected,
 * with the column's name.
 */
export class Stage {
  readonly typed: string;
  private readonly raw: string;
  private readonly typedName: string;

  constructor(
    private readonly db: Db,
    private readonly target: { schema: string; table: string },
    readonly columns: StageColumn[],
    name: string,
    /** False when the server refuses LOCAL INFILE (MySQL 8's default); then rows go in as multi-row inserts. */
    private localInfile: boolean,
  ) {
    this.typedName = `ferry_stage_${name}`;
    this.typed = ident(this.typedName);
    this.raw = ident(`ferry_raw_${name}`);
  }

  // Temporary tables: no implicit commit, so all of this is safe inside a dry run's transaction.
  // Each load starts from a new table: dropping and creating one takes about a millisecond, a
  // DELETE of the previous batch's rows 10-50 ms (undo log). (TRUNCATE would commit.)
  private async ensure(): Promise<void> {
    const names = this.columns.map((c) => ident(c.name)).join(', ');
    await this.db.run(`DROP TEMPORARY TABLE IF EXISTS ${this.typed}`);
    await this.db.run(
      `CREATE TEMPORARY TABLE ${this.typed} (ferry_seq INT NOT NULL DEFAULT 0 PRIMARY KEY) ENGINE=InnoDB ` +
        `SELECT ${names} FROM ${qualified(this.target.schema, this.target.table)} WHERE FALSE`,
    );
  }

  private async ensureRaw(): Promise<void> {
    const rawColumns = this.columns.map((_, i) => `c${i} LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await this.db.run(`DROP TEMPORARY TABLE IF EXISTS ${this.raw}`);
    await this.db.run(`CREATE TEMPORARY TABLE ${this.raw} (ferry_rn INT NOT NULL PRIMARY KEY, ferry_seq INT NOT NULL, ${rawColumns.join(', ')}) ENGINE=InnoDB`);
  }

  /** Replaces the stage's rows with `rows`; rows the columns cannot hold are rejected with the column's name. */
  async load(rows: StagedRow[], rejections: RowRejection[]): Promise<void> {
    await this.ensure();
    const accepted: { seq: number; values: (string | null)[] }[] = [];
    for (const row of rows) {
      const converted = this.convert(row, rejections);
      if (converted) accepted.push({ seq: row.seq, values: converted });
    }
    if (accepted.length === 0) return;
    if (await this.loadFast(accepted)) return;
    await this.ensureRaw();
    await this.loadRaw(accepted);
    await this.castIntoTyped(
      accepted.map((_, rn) => rn),
      accepted,
      rejections,
    );
  }

  /** One LOCAL load straight into the stage; false (and nothing staged) when the server warned or refused. */
  private async loadFast(rows: { seq: number; values: (string | null)[] }[]): Promise<boolean> {
    if (!this.localInfile) return false;
    const variables = this.columns.map((_, i) => `@c${i}`);
    const set = this.columns.map((c, i) => `${ident(c.name)} = ${fromStageText(`@c${i}`, c.type)}`);
    const statement =
      `LOAD DATA LOCAL INFILE 'ferry' INTO TABLE ${this.typed} ${LOAD_FORMAT} (ferry_seq, ${variables.join(', ')})` +
      (set.length > 0 ? ` SET ${set.join(', ')}` : '');
    try {
      if ((await this.db.load(statement, loadFile(rows, false))) === 0) return true;
    } catch (error) {
      if (!localInfileRefused(error)) throw error;
      this.localInfile = false;
      return false;
    }
    await this.db.run(`DELETE FROM ${this.typed}`);
    return false;
  }

  private convert(row: StagedRow, rejections: RowRejection[]): (string | null)[] | undefined {
    const out: (string | null)[] = [];
    for (let i = 0; i < this.columns.length; i++) {
      try {
        out.push(toColumnText(row.values[i] ?? null, this.columns[i].type));
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        rejections.push({ seq: row.seq, reason: `column ${this.columns[i].name}: ${error.message}` });
        return undefined;
      }
    }
    return out;
  }

  private async loadRaw(rows: { seq: number; values: (string | null)[] }[]): Promise<void> {
    if (this.localInfile) {
      try {
        const columns = ['ferry_rn', 'ferry_seq', ...this.columns.map((_, i) => `c${i}`)].join(', ');
        await this.db.load(
          `LOAD DATA LOCAL INFILE 'ferry' INTO TABLE ${this.raw} ${LOAD_FORMAT} (${columns})`,
          loadFile(rows, true),
        );
        return;
      } catch (error) {
        if (!localInfileRefused(error)) throw error;
        this.localInfile = false;
      }
    }
    await this.insertRaw(rows);
  }

  /** Fallback without LOCAL INFILE: multi-row inserts in a few fixed sizes (each size is one prepared statement). */
  private async insertRaw(rows: { seq: number; values: (string | null)[] }[]): Promise<void> {
    const width = this.columns.length + 2;
    let rn = 0;
    while (rn < rows.length) {
      const size = INSERT_BUCKETS.find((b) => b <= rows.length - rn)!;
      const tuple = `(${placeholders(width)})`;
      const values = rows.slice(rn, rn + size).flatMap((row, i) => [rn + i, row.seq, ...row.values]);
      await this.db.run(sql(`INSERT INTO ${this.raw} VALUES ${new Array(size).fill(tuple).join(', ')}`, values));
      rn += size;
    }
  }

  private async castIntoTyped(rns: number[], rows: { seq: number }[], rejections: RowRejection[]): Promise<void> {
    const names = this.columns.map((c) => ident(c.name)).join(', ');
    const casts = this.columns.map((c, i) => fromStageText(`c${i}`, c.type)).join(', ');
    const text = `INSERT INTO ${this.typed} (ferry_seq, ${names}) SELECT ferry_seq, ${casts} FROM ${this.raw} WHERE ferry_rn BETWEEN ? AND ?`;
    await applyWithBisection(
      unitOfWork(this.db, true),
      rns,
      async (subset) => {
        await this.db.run(sql(text, [subset[0], subset[subset.length - 1]]));
      },
      // The server names the stage table; the user knows the target table.
      (rn, error) => rejections.push({ seq: rows[rn].seq, reason: rowErrorReason(error).split(this.typedName).join(this.target.table) }),
    );
  }

  /** `WHERE` part selecting staged rows by seq: one JSON parameter, so the statement text never changes. */
  seqFilter(alias: string, seqs: number[]): Sql {
    return sql(`${alias}.ferry_seq IN (SELECT j.seq FROM JSON_TABLE(?, '$[*]' COLUMNS (seq INT PATH '$')) AS j)`, [JSON.stringify(seqs)]);
  }
}
