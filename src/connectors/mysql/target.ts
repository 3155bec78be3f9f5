import { createHash } from 'node:crypto';
import type { DrawnKeyList, Row, RowRejection, StageRow, TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { FerryError } from '../../util/errors.js';
import { applyWithBisection } from '../bisect.js';
import { rowErrorReason, unitOfWork } from './bisect.js';
import type { ServerFeatures } from './connect.js';
import type { Db } from './db.js';
import { column, exact, hashOf, typedColumn, normalise, orderBy, text, type Column, type ColumnTypes } from './expressions.js';
import { keyChunks, valuesFilter } from './key-filter.js';
import { ident, joinSql, qualified, sql, type Sql } from './sql.js';
import { Stage } from './stage.js';
import { parseType, toColumnText } from './values.js';

const ALIAS = 't';
const STAGE = 's';

/**
 * Everything Ferry does to one MariaDB/MySQL table. Rows go through a typed stage (stage.ts), then
 * into the table with set-based statements; rows the table refuses are isolated by bisection and
 * rejected alone, with the column in the reason.
 */
export class MysqlWriter implements TableWriter {
  private readonly table: string;
  private readonly keyed: Stage;
  private readonly keyless: Stage;

  constructor(
    private readonly db: Db,
    private readonly plan: EntityPlan,
    private readonly columnTypes: () => Promise<ColumnTypes>,
    private readonly features: ServerFeatures,
  ) {
    this.table = qualified(plan.target.schema, plan.target.table);
    const keys = plan.target.keys.map((k, i) => ({ name: k, type: parseType(plan.target.keyTypes[i]) }));
    const fields = plan.fields.map((f) => ({ name: f.target, type: parseType(f.targetType) }));
    // One pair of stage tables per target table and session (a session may write several tables).
    const name = `${plan.position}_${createHash('md5').update(`${plan.target.schema}.${plan.target.table}`).digest('hex').slice(0, 8)}`;
    this.keyed = new Stage(db, plan.target, [...keys, ...fields], `${name}_k`, features.localInfile);
    this.keyless = new Stage(db, plan.target, fields, `${name}_n`, features.localInfile);
  }

  private keys(alias: string): Column[] {
    return this.plan.target.keys.map((k, i) => typedColumn(alias, k, this.plan.target.keyTypes[i]));
  }

  private fields(alias: string): Column[] {
    return this.plan.fields.map((f) => typedColumn(alias, f.target, f.targetType));
  }

  private hash(alias: string): string {
    return hashOf(this.fields(alias).map(text));
  }

  private keyFilter(keys: string[][]): Sql {
    return valuesFilter(this.keys(ALIAS), this.plan.target.keyKinds, keys);
  }

  async isEmpty(): Promise<boolean> {
    const rows = await this.db.rows(sql(`SELECT CAST(EXISTS (SELECT 1 FROM ${this.table}) AS CHAR)`));
    return rows[0]?.[0] === '0';
  }

  async allocateKeys(): Promise<DrawnKeyList> {
    throw new FerryError(`table ${this.plan.target.table}: MariaDB/MySQL keys come from AUTO_INCREMENT on insert and cannot be drawn in advance`);
  }

  /** Keys are never drawn ahead here, so there are no fresh rows to copy: the staged path writes them. */
  async copyFresh(): Promise<string[] | undefined> {
    return undefined;
  }

  async stageRows(rows: StageRow[], rejections: RowRejection[]): Promise<void> {
    await this.keyed.load(
      rows.map((r) => ({ seq: r.seq, values: [...r.key, ...r.values] })),
      rejections,
    );
  }

  async expectedHashes(): Promise<Map<number, string>> {
    const rows = await this.db.rows(sql(`SELECT CAST(ferry_seq AS CHAR), ${this.hash(STAGE)} FROM ${this.keyed.typed} AS ${STAGE}`));
    return new Map(rows.map((row) => [Number(row[0]), row[1] ?? '']));
  }

  private columnList(alias?: string): string {
    const names = [...this.plan.target.keys, ...this.plan.fields.map((f) => f.target)].map(ident);
    return (alias ? names.map((n) => `${alias}.${n}`) : names).join(', ');
  }

  /**
   * The stage joined to the table by exact key: equal in the column collation (the index), then equal
   * as text, so a staged 'B' never updates the row 'b' of a case-insensitive key; its insert clashes
   * and the row is rejected instead of silently overwriting another row.
   */
  private stageJoin(): string {
    const table = this.keys(ALIAS);
    const stage = this.keys(STAGE);
    return table
      .map((c, i) => {
        const equal = `${c.sql} = ${stage[i].sql}`;
        return this.plan.target.keyKinds[i] === 'integer' ? equal : `${equal} AND ${exact(c)} = ${exact(stage[i])}`;
      })
      .join(' AND ');
  }

  private insertStatement(seqs: number[], onlyNew: boolean): Sql {
    const missing = onlyNew ? ` LEFT JOIN ${this.table} AS ${ALIAS} ON ${this.stageJoin()}` : '';
    const absent = onlyNew ? ` AND ${ALIAS}.${ident(this.plan.target.keys[0])} IS NULL` : '';
    return joinSql(
      [
        sql(`INSERT INTO ${this.table} (${this.columnList()}) SELECT ${this.columnList(STAGE)} FROM ${this.keyed.typed} AS ${STAGE}${missing} WHERE `),
        this.keyed.seqFilter(STAGE, seqs),
        sql(absent),
      ],
      '',
    );
  }

  /**
   * Updates existing rows from the stage, only those whose values differ: the server would skip the
   * storage write of an unchanged row, but not its UPDATE triggers, locks or binlog entry. Values
   * compare as bytes, so a change of case or of trailing spaces is still a change.
   */
  private updateStatement(seqs: number[]): Sql | undefined {
    if (this.plan.fields.length === 0) return undefined;
    const set = this.plan.fields.map((f) => `${ALIAS}.${ident(f.target)} = ${STAGE}.${ident(f.target)}`).join(', ');
    const stage = this.fields(STAGE);
    const same = this.fields(ALIAS).map((c, i) => `${exact(c)} <=> ${exact(stage[i])}`);
    return joinSql(
      [
        sql(`UPDATE ${this.table} AS ${ALIAS} JOIN ${this.keyed.typed} AS ${STAGE} ON ${this.stageJoin()} SET ${set} WHERE NOT (${same.join(' AND ')}) AND `),
        this.keyed.seqFilter(STAGE, seqs),
      ],
      '',
    );
  }

  /**
   * `upsert` is an UPDATE by key then an INSERT of the missing keys, rather than
   * `ON DUPLICATE KEY UPDATE`, which would also fire on a clash with any other unique index and
   * overwrite that other row. `insert` is for new keys: a clash is rejected, never overwritten.
   */
  async write(seqs: number[], rejections: RowRejection[], mode: 'insert' | 'upsert'): Promise<void> {
    await applyWithBisection(
      unitOfWork(this.db, mode === 'insert'),
      seqs,
      async (subset) => {
        if (mode === 'upsert') {
          const update = this.updateStatement(subset);
          if (update) await this.db.run(update);
        }
        await this.db.run(this.insertStatement(subset, mode === 'upsert'));
      },
      (seq, error) => rejections.push({ seq, reason: rowErrorReason(error) }),
    );
  }

  async insertReturningKeys(rows: Omit<StageRow, 'key'>[], rejections: RowRejection[]): Promise<Map<number, { key: string[]; hash: string }>> {
    const rejected = rejections.length;
    await this.keyless.load(rows, rejections);
    const refused = new Set(rejections.slice(rejected).map((r) => r.seq));
    const seqs = rows.map((r) => r.seq).filter((seq) => !refused.has(seq));
    const out = new Map<number, { key: string[]; hash: string }>();
    const fields = this.plan.fields.map((f) => ident(f.target)).join(', ');
    const select = `SELECT ${this.plan.fields.map((f) => `${STAGE}.${ident(f.target)}`).join(', ')} FROM ${this.keyless.typed} AS ${STAGE} WHERE `;
    await applyWithBisection(
      unitOfWork(this.db, this.features.returning),
      seqs,
      async (subset) => {
        const got = this.features.returning ? await this.insertReturning(fields, select, subset) : await this.insertOneByOne(fields, select, subset);
        got.forEach((inserted, i) => out.set(subset[i], inserted));
      },
      (seq, error) => rejections.push({ seq, reason: rowErrorReason(error) }),
    );
    if (!this.features.returning) {
      const hashes = await this.currentHashes([...out.values()].map((r) => r.key));
      for (const inserted of out.values()) inserted.hash = hashes.get(this.plan.target.codec.encode(inserted.key)!) ?? '';
    }
    return out;
  }

  /**
   * MariaDB 10.5+: one statement; rows are inserted, and returned, in seq order, each with the hash
   * of what was stored (RETURNING sees the row as the table holds it, so no read-back is needed).
   */
  private async insertReturning(fields: string, select: string, seqs: number[]): Promise<{ key: string[]; hash: string }[]> {
    const width = this.plan.target.keys.length;
    const returning = [...this.keys('').map(text), this.hash('')];
    const statement = joinSql(
      [sql(`INSERT INTO ${this.table} (${fields}) ${select}`), this.keyless.seqFilter(STAGE, seqs), sql(` ORDER BY ${STAGE}.ferry_seq RETURNING ${returning.join(', ')}`)],
      '',
    );
    const rows = await this.db.rows(statement);
    return rows.map((row) => ({ key: row.slice(0, width).map((v) => v ?? ''), hash: row[width] ?? '' }));
  }

  /** MySQL: one row per statement, its id from LAST_INSERT_ID (per connection, so other writers cannot interfere); hashes are read back after. */
  private async insertOneByOne(fields: string, select: string, seqs: number[]): Promise<{ key: string[]; hash: string }[]> {
    const out: { key: string[]; hash: string }[] = [];
    for (const seq of seqs) {
      const id = await this.db.insert(joinSql([sql(`INSERT INTO ${this.table} (${fields}) ${select}`), this.keyless.seqFilter(STAGE, [seq])], ''));
      out.push({ key: [id], hash: '' });
    }
    return out;
  }

  async setArchived(keys: string[][], archived: boolean): Promise<void> {
    const archive = this.plan.target.archive;
    if (!archive || keys.length === 0) return;
    const type = (await this.columnTypes()).get(archive.column) ?? parseType('text');
    const target = `${ALIAS}.${ident(archive.column)}`;
    for (const chunk of keyChunks(keys)) {
      const written = archived ? archive.value : archive.restoreValue;
      const text = written === undefined ? undefined : toColumnText(written, type);
      const set = text === undefined ? sql(`${target} = DEFAULT(${target})`) : sql(`${target} = ?`, [text]);
      // A row that already holds the value is not written again (a run re-done after a crash archives it once).
      const changes = text === undefined ? sql('') : sql(` AND NOT (${target} <=> ?)`, [text]);
      await this.db.run(joinSql([sql(`UPDATE ${this.table} AS ${ALIAS} SET `), set, sql(' WHERE ('), this.keyFilter(chunk), sql(')'), changes], ''));
    }
  }

  async deleteRows(keys: string[][], reject: (key: string[], reason: string) => void): Promise<number> {
    let deleted = 0;
    for (const chunk of keyChunks(keys)) {
      await applyWithBisection(
        unitOfWork(this.db, true),
        chunk,
        async (subset) => {
          deleted += await this.db.run(joinSql([sql(`DELETE ${ALIAS} FROM ${this.table} AS ${ALIAS} WHERE `), this.keyFilter(subset)], ''));
        },
        (key, error) => reject(key, rowErrorReason(error)),
      );
    }
    return deleted;
  }

  async currentHashes(keys: string[][]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const width = this.plan.target.keys.length;
    for (const chunk of keyChunks(keys)) {
      const select = sql(`SELECT ${[...this.keys(ALIAS).map(text), this.hash(ALIAS)].join(', ')} FROM ${this.table} AS ${ALIAS} WHERE `);
      for (const row of await this.db.rows(joinSql([select, this.keyFilter(chunk)], ''))) {
        out.set(this.plan.target.codec.encode(row.slice(0, width))!, row[width] ?? '');
      }
    }
    return out;
  }

  streamHashes(): AsyncIterable<Row> {
    const order = this.keys(ALIAS)
      .map((c, i) => orderBy(c, this.plan.target.keyKinds[i]))
      .join(', ');
    return this.db.stream(sql(`SELECT ${[...this.keys(ALIAS).map(text), this.hash(ALIAS)].join(', ')} FROM ${this.table} AS ${ALIAS} ORDER BY ${order}`));
  }

  async findMatches(candidates: string[][]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (candidates.length === 0) return found;
    const types = await this.columnTypes();
    const normalised = this.plan.match.map((m) => normalise(text(column(ALIAS, m.target, types)), m.normalize));
    const width = normalised.length;
    const keys = this.keys(ALIAS);
    const order = keys.map((c, i) => orderBy(c, this.plan.target.keyKinds[i])).join(', ');
    const matchColumns: Column[] = normalised.map((expr, i) => ({ name: `m${i}`, sql: expr, type: parseType('text') }));
    for (const chunk of keyChunks(candidates)) {
      const filter = valuesFilter(matchColumns, matchColumns.map(() => 'text'), chunk);
      const select = sql(`SELECT ${[...normalised.map((e) => `CAST(${e} AS CHAR CHARACTER SET utf8mb4)`), ...keys.map(text)].join(', ')} FROM ${this.table} AS ${ALIAS} WHERE `);
      for (const row of await this.db.rows(joinSql([select, filter, sql(` ORDER BY ${order}`)], ''))) {
        const matchKey = row.slice(0, width).join('\u0001');
        if (!found.has(matchKey)) found.set(matchKey, row.slice(width).map((v) => v ?? ''));
      }
    }
    return found;
  }
}

