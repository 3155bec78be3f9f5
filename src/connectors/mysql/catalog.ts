import type { ColumnInfo, TableInfo } from '../../engine/connector.js';
import type { Db } from './db.js';
import { placeholders, sql } from './sql.js';

// Engines that cannot roll back a write (a dry run or a failed unit would leave rows behind).
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'xtradb', 'ndbcluster', 'ndb', 'tokudb', 'rocksdb']);

const COLUMNS = `
SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), CAST(c.COLUMN_TYPE AS CHAR), CAST(LOWER(c.DATA_TYPE) AS CHAR),
       CAST(c.IS_NULLABLE AS CHAR), CAST(c.EXTRA AS CHAR), CAST(c.COLUMN_DEFAULT AS CHAR),
       CAST(c.CHARACTER_SET_NAME AS CHAR), CAST(c.COLLATION_NAME AS CHAR), CAST(t.ENGINE AS CHAR), CAST(DATABASE() AS CHAR)
  FROM information_schema.COLUMNS c
  JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
 WHERE c.TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND c.TABLE_NAME IN (%TABLES%)
 ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`;

/**
 * The declared type, with the character set and collation of text columns: the connector stages
 * values in columns of exactly this type and compares keys in this collation.
 */
function declaredType(columnType: string, charset: string | null, collation: string | null): string {
  if (!charset || !collation) return columnType;
  return `${columnType} CHARACTER SET ${charset} COLLATE ${collation}`;
}

function limitationsOf(engine: string | null, table: string): string[] {
  if (!engine || TRANSACTIONAL_ENGINES.has(engine.toLowerCase())) return [];
  return [`table ${table} uses the ${engine} engine, which cannot roll back writes (dry runs and rejected-row bisection need InnoDB)`];
}

/** Reads the columns of several tables in one query; tables that do not exist are absent. `namespace` '' = the URL's database. */
export async function readCatalog(db: Db, namespace: string, tables: string[]): Promise<Map<string, TableInfo>> {
  const out = new Map<string, TableInfo>();
  const names = [...new Set(tables)];
  if (names.length === 0) return out;
  const rows = await db.rows(sql(COLUMNS.replace('%TABLES%', placeholders(names.length)), [namespace, ...names]));
  for (const [table, name, columnType, dataType, nullable, extra, defaultExpr, charset, collation, engine, database] of rows) {
    if (!table || !name) continue;
    let info = out.get(table);
    if (!info) {
      info = { schema: namespace || database || '', table, columns: new Map(), limitations: limitationsOf(engine, table) };
      out.set(table, info);
    }
    const autoIncrement = /auto_increment/i.test(extra ?? '');
    const column: ColumnInfo = {
      name,
      sqlType: declaredType(columnType ?? '', charset, collation),
      typeName: dataType ?? '',
      notNull: nullable === 'NO',
      generated: autoIncrement || /GENERATED/i.test(extra ?? ''),
      defaultExpr: autoIncrement ? 'AUTO_INCREMENT' : defaultExpr,
      identity: '',
    };
    info.columns.set(name, column);
  }
  return out;
}
