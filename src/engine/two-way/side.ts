import { ident, literal, qualified } from '../../util/sql.js';
import type { KeyCodec } from '../keys.js';
import type { EntityPlan, FieldPlan } from '../plan.js';
import type { Row } from '../connector.js';
import type { PostgresSession } from '../../connectors/postgres/session.js';
import { inScopeSql } from '../../connectors/postgres/source.js';
import { orderExpression, transformSql } from '../../connectors/postgres/sql.js';
import type { TargetTable } from '../../connectors/postgres/target.js';
import { copyOutRows } from '../../util/copy-out.js';
import type { SideName, SideRow } from './types.js';

const ALIAS = 'side';

/**
 * One system of a two-way entity: how to read its rows and how to write them. `reader` is the plan
 * in which this side is the source (its conditions, transforms towards the other side), `writer`
 * the plan in which it is the target (its key defaults, archive column, column types). Both sides
 * are written with the same TargetTable the one-way engine uses.
 */
export class Side {
  readonly reader: EntityPlan;
  readonly writer: EntityPlan;
  /** Field mappings in mapping order, as seen from this side. */
  readonly mappings: FieldPlan[];

  constructor(
    readonly name: SideName,
    plan: EntityPlan,
  ) {
    const reverse = plan.reverse!;
    this.reader = name === 'source' ? plan : reverse;
    this.writer = name === 'source' ? reverse : plan;
    this.mappings = [...this.reader.keyFields, ...this.reader.fields].sort((a, b) => a.mapping - b.mapping);
  }

  get codec(): KeyCodec {
    return this.reader.source.codec;
  }

  get keys(): string[] {
    return this.reader.source.keys;
  }

  get updatedAt(): string | undefined {
    return this.reader.source.updatedAt;
  }

  table(session: PostgresSession): TargetTable {
    return session.table(this.writer);
  }

  private get from(): string {
    return `${qualified(this.reader.source.schema, this.reader.source.table)} AS ${ALIAS}`;
  }

  private column(name: string): string {
    return `${ALIAS}.${ident(name)}`;
  }

  private selectList(): string {
    const cursor = this.updatedAt ? this.column(this.updatedAt) : undefined;
    const archive = this.writer.target.archive;
    const hash = `md5(ROW(${this.writer.fields.map((f) => this.column(f.target)).join(', ')})::text)`;
    return [
      ...this.keys.map((k) => `${this.column(k)}::text`),
      cursor ? `${cursor}::text` : 'NULL',
      cursor ? `extract(epoch from ${cursor})::text` : 'NULL',
      hash,
      `CASE WHEN ${inScopeSql(this.reader)} THEN 't' ELSE 'f' END`,
      archive ? `CASE WHEN (${this.column(archive.column)})::text = ${literal(archive.value)} THEN 't' ELSE 'f' END` : `'f'`,
      ...this.mappings.map((f) => `(${this.column(f.source)})::text`),
      ...this.mappings.map((f) => `(${transformSql(this.column(f.source), f.transform)})::text`),
      ...this.reader.match.map((m) => `(${this.column(m.source)})::text`),
    ].join(', ');
  }

  parse(row: Row): SideRow {
    const width = this.keys.length;
    const n = this.mappings.length;
    const first = width + 5;
    const keyParts = row.slice(0, width) as string[];
    const modified = row[width + 1];
    return {
      key: this.codec.encode(keyParts)!,
      keyParts,
      cursor: row[width],
      modifiedAt: modified === null ? null : Number(modified),
      hash: row[width + 2]!,
      inScope: row[width + 3] === 't',
      archived: row[width + 4] === 't',
      raw: row.slice(first, first + n),
      out: row.slice(first + n, first + 2 * n),
      match: row.slice(first + 2 * n),
    };
  }

  private keyFilter(keys: string[][]): { where: string; values: string[][] } {
    const types = this.reader.source.keyTypes;
    const columns = this.keys.map((k) => this.column(k));
    if (types.length === 1) return { where: `${columns[0]} = ANY($1::${types[0]}[])`, values: [keys.map((k) => k[0])] };
    const unnest = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    return { where: `(${columns.join(', ')}) IN (SELECT * FROM unnest(${unnest}))`, values: types.map((_, i) => keys.map((k) => k[i])) };
  }

  /** Current rows for these encoded keys (missing rows are absent). */
  async rowsByKeys({ client }: PostgresSession, encodedKeys: Iterable<string>): Promise<Map<string, SideRow>> {
    const keys = [...new Set(encodedKeys)].map((k) => this.codec.decode(k));
    const out = new Map<string, SideRow>();
    if (keys.length === 0) return out;
    const filter = this.keyFilter(keys);
    const result = await client.query({ text: `SELECT ${this.selectList()} FROM ${this.from} WHERE ${filter.where}`, values: filter.values, rowMode: 'array' });
    for (const raw of result.rows as Row[]) {
      const row = this.parse(raw);
      out.set(row.key, row);
    }
    return out;
  }

  private keyOrder(): string {
    return this.keys.map((k, i) => orderExpression(this.column(k), this.reader.source.keyKinds[i])).join(', ');
  }

  /** `[...keys, hash]` of every row in encoded key order (Full runs). */
  streamHashes({ client }: PostgresSession): AsyncGenerator<Row> {
    const hash = `md5(ROW(${this.writer.fields.map((f) => this.column(f.target)).join(', ')})::text)`;
    return copyOutRows(client, `SELECT ${this.keys.map((k) => this.column(k)).join(', ')}, ${hash} FROM ${this.from} ORDER BY ${this.keyOrder()}`);
  }

  /** Rows after a watermark in tie-safe `(updatedAt, key)` order (Incremental runs). */
  streamChanged({ client }: PostgresSession, watermark: { cursor: string; key: string[] } | undefined): AsyncGenerator<Row> {
    const order = [this.column(this.updatedAt!), ...this.keys.map((k) => this.column(k))].join(', ');
    let where = ` WHERE ${this.column(this.updatedAt!)} IS NOT NULL`;
    if (watermark) {
      const bound = [
        `${literal(watermark.cursor)}::timestamptz`,
        ...watermark.key.map((k, i) => `${literal(k)}::${this.reader.source.keyTypes[i]}`),
      ].join(', ');
      where += ` AND (${order}) > (${bound})`;
    }
    return copyOutRows(client, `SELECT ${this.selectList()} FROM ${this.from}${where} ORDER BY ${order}`);
  }

  /** The newest `(updatedAt, key)`: where the next Incremental run starts after a Full run. */
  async newestCursor({ client }: PostgresSession): Promise<{ cursor: string; key: string[] } | undefined> {
    if (!this.updatedAt) return undefined;
    const cursor = this.column(this.updatedAt);
    const keys = this.keys.map((k) => this.column(k));
    const result = await client.query({
      text: `SELECT ${[cursor, ...keys].map((c) => `${c}::text`).join(', ')} FROM ${this.from} WHERE ${cursor} IS NOT NULL ORDER BY ${[cursor, ...keys].map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
      rowMode: 'array',
    });
    if (result.rows.length === 0) return undefined;
    const [value, ...key] = result.rows[0] as string[];
    return { cursor: value, key };
  }
}

/** Watermark name of a side: the source keeps the entity's own name (shared with one-way runs). */
export function watermarkName(entity: string, side: 'source' | 'target'): string {
  return side === 'source' ? entity : `${entity}:target`;
}
