import type { Entity } from '../../api/entity.js';
import type { Watermark } from '../../engine/connector.js';
import { keyKindOf, type KeyKind } from '../../engine/keys.js';
import { conditionTree } from '../../engine/plan.js';
import { splitTable, type ExportColumn, type ExportData, type ExportFileFormat, type ExportRead, type ExportSource } from '../../export/source.js';
import { ConfigError } from '../../util/errors.js';
import { readCatalog } from './catalog.js';
import { conditionSql } from './conditions.js';
import type { Db } from './db.js';
import { exportKind, jsonColumns, resultFieldType, type ResultField } from './export-columns.js';
import { orderBy, text, transform, typedColumn, type Column } from './expressions.js';
import type { MysqlSession } from './session.js';
import { cursorAfter } from './source.js';
import { joinSql, qualified, sql, type Sql } from './sql.js';
import { parseType } from './values.js';

const ALIAS = 'src';

/** One compiled read: the rows' SELECT, their columns, and for Changes the query of the last row's `(cursor, key)`. */
interface CompiledRead {
  select: Sql;
  columns: ExportColumn[];
  last?: Sql;
}

/**
 * Exports from MariaDB/MySQL: the server renders every value as text (binary as `\x` hex, TIMESTAMP
 * in UTC), rows stream with backpressure, and the export pipeline formats them. Each read runs in a
 * read-only consistent snapshot, so a Changes export's last row is the last row of its file.
 */
export class MysqlExportSource implements ExportSource {
  constructor(
    private readonly db: Db,
    private readonly session: MysqlSession,
  ) {}

  async read<T>(request: ExportRead, _file: ExportFileFormat, write: (data: ExportData) => Promise<T>): Promise<{ written: T; next?: Watermark }> {
    if (request.kind === 'events') {
      throw new ConfigError(
        'spec.target.export.mode: Events exports read a change log that Ferry installs on PostgreSQL sources only; export a MariaDB/MySQL source in Changes mode (rows changed since the last export, by source.updatedAt) or Snapshot',
      );
    }
    if (request.kind === 'query' && request.changes) {
      throw new ConfigError('spec.target.export.changes: Changes exports of a query are supported on PostgreSQL sources only; export a MariaDB/MySQL query in Snapshot mode, or an entity in Changes mode');
    }
    await this.session.beginSnapshot();
    try {
      // Compiled in the read-only snapshot, so a free query's probe runs read-only too (and one statement per call).
      const read = request.kind === 'query' ? await this.compileQuery(request.query) : await this.compileEntity(request.entity, request.namespace, request.mode, request.after);
      const written = await write({ kind: 'rows', columns: read.columns, rows: this.db.stream(read.select) });
      const next = read.last ? await this.last(read.last) : undefined;
      await this.session.endSnapshot();
      return { written, ...(next ? { next } : {}) };
    } catch (error) {
      await this.session.rollback().catch(() => {});
      throw error;
    }
  }

  private async last(query: Sql): Promise<Watermark | undefined> {
    const [row] = await this.db.rows(query);
    if (!row || row[0] === null) return undefined;
    return { cursor: row[0], key: row.slice(1).map((k) => k ?? '') };
  }

  /** A free query runs as a derived table (so it can only be a SELECT), each column rendered as text by its result type. */
  private async compileQuery(query: string): Promise<CompiledRead> {
    const table = `(\n${query}\n) AS q`;
    const probe = `SELECT * FROM ${table} LIMIT 0`;
    let fields: ResultField[];
    try {
      const [, result] = await this.db.connection.promise().query(probe);
      fields = (result ?? []) as ResultField[];
    } catch (error) {
      throw new ConfigError(`spec.target.export.query: ${(error as Error).message}`);
    }
    const columns = fields.map((f) => ({ column: typedColumn('q', f.name, 'varchar'), type: resultFieldType(f) }));
    const list = columns.map(({ column, type }) => text({ ...column, type })).join(', ');
    return {
      select: sql(`SELECT ${list} FROM ${table}`),
      columns: columns.map(({ column, type }) => ({ name: column.name, kind: exportKind(type, false) })),
    };
  }

  private async compileEntity(entity: Entity, namespace: string, mode: 'Changes' | 'Snapshot', after: Watermark | undefined): Promise<CompiledRead> {
    const t = splitTable(entity.source.table, namespace);
    const where = `${t.schema ? `${t.schema}.` : ''}${t.table}`;
    const info = (await readCatalog(this.db, t.schema, [t.table])).get(t.table);
    if (!info) throw new ConfigError(`entity ${entity.name}: source table ${where} does not exist`);
    const json = await jsonColumns(this.db, t.schema, t.table);
    const columnOf = (name: string, what: string): Column => {
      const found = info.columns.get(name);
      if (!found) throw new ConfigError(`entity ${entity.name}: ${what} "${name}" does not exist in ${where}`);
      return typedColumn(ALIAS, name, found.sqlType);
    };
    const kinds: KeyKind[] = entity.source.keys.map((k) => keyKindOf(info.columns.get(k)?.typeName ?? ''));
    const keys = entity.source.keys.map((k) => columnOf(k, 'key column'));
    const fields = entity.fields.map((f) => ({ field: f, column: columnOf(f.source, 'column') }));
    const list = fields.map(({ field, column }) => transform(text(column), field.transform ?? 'None')).join(', ');
    const columns = fields.map(({ field, column }): ExportColumn => ({
      name: field.target,
      // A transform works on the value's text, so its result is text (as on PostgreSQL).
      kind: (field.transform ?? 'None') === 'None' ? exportKind(column.type, json.has(column.name)) : 'text',
    }));
    const types = new Map([...info.columns.values()].map((c) => [c.name, parseType(c.sqlType)]));
    const filters = [conditionSql(conditionTree(entity.source.conditions ?? []), ALIAS, types)];
    const from = `${qualified(t.schema, t.table)} AS ${ALIAS}`;
    const keyOrder = keys.map((c, i) => orderBy(c, kinds[i]));
    const allOf = (parts: Sql[]) => joinSql(parts.map((p) => ({ ...p, text: `(${p.text})` })), ' AND ');
    if (mode === 'Snapshot') {
      const filter = allOf(filters);
      return { select: joinSql([sql(`SELECT ${list} FROM ${from} WHERE `), filter, sql(` ORDER BY ${keyOrder.join(', ')}`)], ''), columns };
    }
    if (!entity.source.updatedAt) throw new ConfigError(`entity ${entity.name}: Changes mode needs source.updatedAt`);
    const cursor = columnOf(entity.source.updatedAt, 'column');
    filters.push(sql(`${cursor.sql} IS NOT NULL`), cursorAfter(cursor, keys, kinds, after));
    const filter = allOf(filters);
    const order = [cursor.sql, ...keyOrder];
    return {
      select: joinSql([sql(`SELECT ${list} FROM ${from} WHERE `), filter, sql(` ORDER BY ${order.join(', ')}`)], ''),
      columns,
      last: joinSql(
        [sql(`SELECT ${[cursor, ...keys].map(text).join(', ')} FROM ${from} WHERE `), filter, sql(` ORDER BY ${order.map((o) => `${o} DESC`).join(', ')} LIMIT 1`)],
        '',
      ),
    };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
