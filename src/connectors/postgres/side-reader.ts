import type pg from 'pg';
import type { Row, SideReader, SideSpec, Watermark } from '../../engine/connector.js';
import { copyOutRows } from '../../util/copy-out.js';
import { ident, literal, qualified } from '../../util/sql.js';
import { inScopeSql } from './source.js';
import { asHex, decodeUtf8Row, storesUncheckedBytes } from './unchecked-bytes.js';
import { orderExpression, mappedValueSql } from './sql.js';

const ALIAS = 'side';
const column = (name: string) => `${ALIAS}.${ident(name)}`;

/** Reads one table of a two-way flow from PostgreSQL (the rows of `SIDE_LAYOUT`). */
export class PostgresSideReader implements SideReader {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly side: SideSpec,
  ) {}

  private get keys(): string[] {
    return this.side.reader.source.keys;
  }

  private get from(): string {
    return `${qualified(this.side.reader.source.schema, this.side.reader.source.table)} AS ${ALIAS}`;
  }

  /** The same expression as the table's writer (TargetTable.hashExpression) over the columns Ferry writes. */
  private get hash(): string {
    return `md5(ROW(${this.side.writer.fields.map((f) => column(f.target)).join(', ')})::text)`;
  }

  /** 't' when the row is archived (the writer's archive column holds its archived value). */
  private get archived(): string {
    const archive = this.side.writer.target.archive;
    return archive ? `CASE WHEN (${column(archive.column)})::text = ${literal(archive.value)} THEN 't' ELSE 'f' END` : `'f'`;
  }

  private selectList(): string {
    const { reader, mappings } = this.side;
    const updatedAt = reader.source.updatedAt;
    const cursor = updatedAt ? column(updatedAt) : undefined;
    return [
      ...this.keys.map((k) => `${column(k)}::text`),
      cursor ? `${cursor}::text` : 'NULL',
      cursor ? `extract(epoch from ${cursor})::text` : 'NULL',
      this.hash,
      `CASE WHEN ${inScopeSql(reader)} THEN 't' ELSE 'f' END`,
      this.archived,
      ...mappings.map((f) => `(${column(f.source)})::text`),
      ...mappings.map((f) => `(${mappedValueSql(column(f.source), f)})::text`),
      ...reader.match.map((m) => `(${column(m.source)})::text`),
    ].join(', ');
  }

  private keyFilter(keys: string[][]): { where: string; values: string[][] } {
    const types = this.side.reader.source.keyTypes;
    const columns = this.keys.map(column);
    if (types.length === 1) return { where: `${columns[0]} = ANY($1::${types[0]}[])`, values: [keys.map((k) => k[0])] };
    const unnest = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    return { where: `(${columns.join(', ')}) IN (SELECT * FROM unnest(${unnest}))`, values: types.map((_, i) => keys.map((k) => k[i])) };
  }

  private keyOrder(): string {
    return this.keys.map((k, i) => orderExpression(column(k), this.side.reader.source.keyKinds[i])).join(', ');
  }

  /** The role (or column) of each position of a select list row, for a rejection reason. */
  private columnNames(): string[] {
    const { reader, mappings } = this.side;
    const cursor = reader.source.updatedAt ?? '(cursor)';
    return [...this.keys, cursor, cursor, '(hash)', '(conditions)', '(archived)', ...mappings.map((f) => f.source), ...mappings.map((f) => f.source), ...reader.match.map((m) => m.source)];
  }

  async rowsByKeys(keys: string[][]): Promise<Row[]> {
    if (keys.length === 0) return [];
    const filter = this.keyFilter(keys);
    const query = `SELECT ${this.selectList()} FROM ${this.from} WHERE ${filter.where}`;
    if (!(await storesUncheckedBytes(this.client))) {
      return (await this.client.query({ text: query, values: filter.values, rowMode: 'array' })).rows as Row[];
    }
    const names = this.columnNames();
    const encoded = await this.client.query({ text: asHex(query, names.length), values: filter.values, rowMode: 'array' });
    return (encoded.rows as Row[]).map((row) => decodeUtf8Row(row, names));
  }

  streamHashes(): AsyncIterable<Row> {
    const names = [...this.keys, '(hash)', '(archived)'];
    return this.rows(`SELECT ${this.keys.map(column).join(', ')}, ${this.hash}, ${this.archived} FROM ${this.from} ORDER BY ${this.keyOrder()}`, names);
  }

  /** Rows of a query without parameters; on a SQL_ASCII server read as hex and decoded (unchecked-bytes.ts). */
  private async *rows(query: string, names: string[]): AsyncGenerator<Row> {
    if (!(await storesUncheckedBytes(this.client))) {
      yield* copyOutRows(this.client, query);
      return;
    }
    for await (const encoded of copyOutRows(this.client, asHex(query, names.length))) yield decodeUtf8Row(encoded, names);
  }

  changedSince(watermark: Watermark | undefined): AsyncIterable<Row> {
    const updatedAt = column(this.side.reader.source.updatedAt!);
    const order = [updatedAt, ...this.keys.map(column)].join(', ');
    let where = ` WHERE ${updatedAt} IS NOT NULL`;
    if (watermark) {
      const types = this.side.reader.source.keyTypes;
      const bound = [`${literal(watermark.cursor)}::timestamptz`, ...watermark.key.map((k, i) => `${literal(k)}::${types[i]}`)].join(', ');
      where += ` AND (${order}) > (${bound})`;
    }
    return this.rows(`SELECT ${this.selectList()} FROM ${this.from}${where} ORDER BY ${order}`, this.columnNames());
  }

  async newestCursor(): Promise<Watermark | undefined> {
    const updatedAt = this.side.reader.source.updatedAt;
    if (!updatedAt) return undefined;
    const columns = [column(updatedAt), ...this.keys.map(column)];
    const result = await this.client.query({
      text: `SELECT ${columns.map((c) => `${c}::text`).join(', ')} FROM ${this.from} WHERE ${column(updatedAt)} IS NOT NULL ORDER BY ${columns.map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
      rowMode: 'array',
    });
    if (result.rows.length === 0) return undefined;
    const [cursor, ...key] = result.rows[0] as string[];
    return { cursor, key };
  }
}
