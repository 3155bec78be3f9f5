import type { Row, TableReader, Watermark } from '../../engine/connector.js';
import type { KeyKind } from '../../engine/keys.js';
import type { EntityPlan } from '../../engine/plan.js';
import type { Db } from './db.js';
import { conditionSql } from './conditions.js';
import { column, hashOf, typedColumn, orderBy, text, mappedValue, type Column, type ColumnTypes } from './expressions.js';
import { keyChunks, keysAfter, valuesFilter } from './key-filter.js';
import { joinSql, qualified, sql, type Sql } from './sql.js';
import { isDatetime, utcDatetime } from './values.js';

/** `(cursor, key) > watermark` in the engine's order; a PostgreSQL-written watermark (`...+00`) is read as UTC. */
export function cursorAfter(cursor: Column, keys: Column[], kinds: KeyKind[], watermark: Watermark | undefined): Sql {
  if (!watermark) return sql('TRUE');
  const bound = isDatetime(cursor.type) ? utcDatetime(watermark.cursor) : watermark.cursor;
  const cast = isDatetime(cursor.type) ? 'CAST(? AS DATETIME(6))' : '?';
  return joinSql(
    [sql(`(${cursor.sql} > ${cast} OR (${cursor.sql} = ${cast} AND (`, [bound, bound]), keysAfter(keys, kinds, watermark.key), sql(')))')],
    '',
  );
}

/** The newest `(cursor, key)` of a table: its last row in `(cursor, key)` order. */
export async function newestCursor(db: Db, from: string, cursor: Column, keys: Column[], kinds: KeyKind[]): Promise<Watermark | undefined> {
  const columns = [text(cursor), ...keys.map(text)].join(', ');
  const order = [cursor.sql, ...keys.map((c, i) => orderBy(c, kinds[i]))].map((c) => `${c} DESC`).join(', ');
  const rows = await db.rows(sql(`SELECT ${columns} FROM ${from} WHERE ${cursor.sql} IS NOT NULL ORDER BY ${order} LIMIT 1`));
  if (rows.length === 0 || rows[0][0] === null) return undefined;
  return { cursor: rows[0][0], key: rows[0].slice(1).map((v) => v ?? '') };
}

// ORDER BY a bare name could pick an output column; qualified names never do.
const ALIAS = 'src';

/**
 * Reads an entity from a MariaDB/MySQL source. Every query returns `SOURCE_LAYOUT` rows, all text,
 * with the hash computed by the server over the mapped, transformed values, so an unchanged row
 * costs only its key and hash on the wire.
 */
export class MysqlReader implements TableReader {
  constructor(
    private readonly db: Db,
    private readonly plan: EntityPlan,
    private readonly columnTypes: () => Promise<ColumnTypes>,
  ) {}

  private get table(): string {
    return `${qualified(this.plan.source.schema, this.plan.source.table)} AS ${ALIAS}`;
  }

  private keys(): Column[] {
    return this.plan.source.keys.map((k, i) => typedColumn(ALIAS, k, this.plan.source.keyTypes[i]));
  }

  private keyOrder(direction = ''): string {
    return this.keys()
      .map((c, i) => orderBy(c, this.plan.source.keyKinds[i]) + direction)
      .join(', ');
  }

  private async selectList(withValues: boolean): Promise<Sql> {
    const types = await this.columnTypes();
    const plan = this.plan;
    const values = [...plan.keyFields, ...plan.fields].map((f) => mappedValue(text(column(ALIAS, f.source, types)), f));
    const cursor = plan.source.updatedAt ? text(column(ALIAS, plan.source.updatedAt, types)) : 'NULL';
    const inScope = conditionSql(plan.source.conditions, ALIAS, types);
    const head = [...this.keys().map(text), cursor, hashOf(values)].join(', ');
    const columns = [sql(head), sql(`IF(${inScope.text}, 't', 'f')`, inScope.values)];
    if (withValues) {
      columns.push(sql([...values, ...plan.match.map((m) => text(column(ALIAS, m.source, types)))].join(', ')));
    }
    return joinSql(columns, ', ');
  }

  private async select(withValues: boolean, where: Sql, order: string, limit = ''): Promise<Sql> {
    const list = await this.selectList(withValues);
    return joinSql([sql('SELECT '), list, sql(` FROM ${this.table} WHERE `), where, sql(` ORDER BY ${order}${limit}`)], '');
  }

  async *scan(withValues: boolean): AsyncGenerator<Row> {
    yield* this.db.stream(await this.select(withValues, sql('TRUE'), this.keyOrder()));
  }

  private async cursorColumn(): Promise<Column> {
    return column(ALIAS, this.plan.source.updatedAt!, await this.columnTypes());
  }

  private async after(watermark: Watermark | undefined): Promise<Sql> {
    return cursorAfter(await this.cursorColumn(), this.keys(), this.plan.source.keyKinds, watermark);
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    const cursor = await this.cursorColumn();
    yield* this.db.stream(await this.select(true, await this.after(watermark), `${cursor.sql}, ${this.keyOrder()}`));
  }

  async *byKeys(keys: string[][]): AsyncGenerator<Row> {
    for (const chunk of keyChunks(keys)) {
      yield* await this.db.rows(await this.select(true, valuesFilter(this.keys(), this.plan.source.keyKinds, chunk), this.keyOrder()));
    }
  }

  async newestCursor(): Promise<Watermark | undefined> {
    return newestCursor(this.db, this.table, await this.cursorColumn(), this.keys(), this.plan.source.keyKinds);
  }

  async estimateRows(): Promise<number> {
    const rows = await this.db.rows(
      sql(
        `SELECT CAST(COALESCE(TABLE_ROWS, 0) AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?`,
        [this.plan.source.schema, this.plan.source.table],
      ),
    );
    return Number(rows[0]?.[0] ?? 0);
  }

  async countChangedSince(watermark: Watermark | undefined, cap: number): Promise<number> {
    const where = await this.after(watermark);
    const limited = joinSql([sql(`SELECT CAST(COUNT(*) AS CHAR) FROM (SELECT 1 FROM ${this.table} WHERE `), where, sql(` LIMIT ${Math.max(0, Math.floor(cap))}) AS n`)], '');
    const rows = await this.db.rows(limited);
    return Number(rows[0]?.[0] ?? 0);
  }
}
