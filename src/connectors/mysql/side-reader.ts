import type { Row, SideReader, SideSpec, Watermark } from '../../engine/connector.js';
import type { Db } from './db.js';
import { conditionSql } from './conditions.js';
import { column, exact, hashOf, typedColumn, orderBy, text, mappedValue, type Column, type ColumnTypes } from './expressions.js';
import { keyChunks, valuesFilter } from './key-filter.js';
import { cursorAfter, newestCursor } from './source.js';
import { joinSql, qualified, sql, type Sql } from './sql.js';
import { isDatetime, toColumnText } from './values.js';

const ALIAS = 'side';
const NUMERIC = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double']);

/** The cursor as seconds since the epoch (UTC, the session's time zone), comparable across systems. */
function epochSeconds(cursor: Column): string {
  if (isDatetime(cursor.type) || cursor.type.base === 'date') return `CAST(UNIX_TIMESTAMP(${cursor.sql}) AS CHAR)`;
  if (NUMERIC.has(cursor.type.base)) return `CAST(${cursor.sql} AS CHAR)`;
  return 'NULL';
}

/** Reads one table of a two-way flow from MariaDB/MySQL (the rows of `SIDE_LAYOUT`). */
export class MysqlSideReader implements SideReader {
  constructor(
    private readonly db: Db,
    private readonly side: SideSpec,
    private readonly columnTypes: () => Promise<ColumnTypes>,
  ) {}

  private get from(): string {
    return `${qualified(this.side.reader.source.schema, this.side.reader.source.table)} AS ${ALIAS}`;
  }

  private keys(): Column[] {
    const source = this.side.reader.source;
    return source.keys.map((k, i) => typedColumn(ALIAS, k, source.keyTypes[i]));
  }

  private keyOrder(): string {
    return this.keys()
      .map((c, i) => orderBy(c, this.side.reader.source.keyKinds[i]))
      .join(', ');
  }

  /** The table writer's hash (MysqlWriter), over the columns Ferry writes here. */
  private hash(): string {
    return hashOf(this.side.writer.fields.map((f) => text(typedColumn(ALIAS, f.target, f.targetType))));
  }

  private async cursor(types: ColumnTypes): Promise<Column | undefined> {
    const updatedAt = this.side.reader.source.updatedAt;
    return updatedAt ? column(ALIAS, updatedAt, types) : undefined;
  }

  private archived(types: ColumnTypes): Sql {
    const archive = this.side.writer.target.archive;
    if (!archive) return sql("'f'");
    const archiveColumn = column(ALIAS, archive.column, types);
    const stored = toColumnText(archive.value, archiveColumn.type);
    return sql(`IF(${exact(archiveColumn)} = CAST(? AS BINARY), 't', 'f')`, [stored]);
  }

  private async selectList(): Promise<Sql> {
    const { reader, mappings } = this.side;
    const types = await this.columnTypes();
    const cursor = await this.cursor(types);
    const inScope = conditionSql(reader.source.conditions, ALIAS, types);
    const source = (name: string) => text(column(ALIAS, name, types));
    return joinSql(
      [
        sql([...this.keys().map(text), cursor ? text(cursor) : 'NULL', cursor ? epochSeconds(cursor) : 'NULL', this.hash()].join(', ')),
        sql(`IF(${inScope.text}, 't', 'f')`, inScope.values),
        this.archived(types),
        sql(
          [
            ...mappings.map((f) => source(f.source)),
            ...mappings.map((f) => mappedValue(source(f.source), f)),
            ...reader.match.map((m) => source(m.source)),
          ].join(', ') || 'NULL',
        ),
      ],
      ', ',
    );
  }

  async rowsByKeys(keys: string[][]): Promise<Row[]> {
    const out: Row[] = [];
    for (const chunk of keyChunks(keys)) {
      const filter = valuesFilter(this.keys(), this.side.reader.source.keyKinds, chunk);
      out.push(...(await this.db.rows(joinSql([sql('SELECT '), await this.selectList(), sql(` FROM ${this.from} WHERE `), filter], ''))));
    }
    return out;
  }

  async *streamHashes(): AsyncGenerator<Row> {
    const archived = this.archived(await this.columnTypes());
    const select = sql(`SELECT ${[...this.keys().map(text), this.hash()].join(', ')}, `);
    yield* this.db.stream(joinSql([select, archived, sql(` FROM ${this.from} ORDER BY ${this.keyOrder()}`)], ''));
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    const cursor = (await this.cursor(await this.columnTypes()))!;
    const after = cursorAfter(cursor, this.keys(), this.side.reader.source.keyKinds, watermark);
    const statement = joinSql(
      [sql('SELECT '), await this.selectList(), sql(` FROM ${this.from} WHERE ${cursor.sql} IS NOT NULL AND `), after, sql(` ORDER BY ${cursor.sql}, ${this.keyOrder()}`)],
      '',
    );
    yield* this.db.stream(statement);
  }

  async newestCursor(): Promise<Watermark | undefined> {
    const cursor = await this.cursor(await this.columnTypes());
    if (!cursor) return undefined;
    return newestCursor(this.db, this.from, cursor, this.keys(), this.side.reader.source.keyKinds);
  }
}

