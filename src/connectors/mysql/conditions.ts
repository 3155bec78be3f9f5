import type { ConditionClause } from '../../engine/connector.js';
import { ConfigError } from '../../util/errors.js';
import { bytesList, column, exact, text, type ColumnTypes } from './expressions.js';
import { joinSql, sql, type Sql } from './sql.js';

/** The source conditions: AND across clauses, OR across a clause's values, values compared with the column's exact text. */
export function conditionSql(clauses: ConditionClause[], alias: string, types: ColumnTypes): Sql {
  if (clauses.length === 0) return sql('TRUE');
  const parts = clauses.map((clause) => {
    const c = column(alias, clause.field, types);
    switch (clause.operator) {
      case 'In':
        return clause.values.length === 0 ? sql('FALSE') : sql(`${exact(c)} IN (${bytesList(clause.values.length)})`, clause.values);
      case 'NotIn':
        return clause.values.length === 0
          ? sql('TRUE')
          : sql(`(${c.sql} IS NULL OR ${exact(c)} NOT IN (${bytesList(clause.values.length)}))`, clause.values);
      case 'IsNull':
        return sql(`${c.sql} IS NULL`);
      case 'NotNull':
        return sql(`${c.sql} IS NOT NULL`);
      case 'Contains':
        return containsSql(clause, text(c));
      default:
        throw new ConfigError(`unknown condition operator ${String(clause.operator)}`);
    }
  });
  return joinSql(
    parts.map((p) => ({ ...p, text: `(${p.text})` })),
    ' AND ',
  );
}

const regexQuote = (value: string) => value.replace(/[.*+?^${}()|[\]\\/#-]/g, '\\$&');

/**
 * `Contains` over a list column: delimited text is matched by one byte-wise regular expression (an
 * item, trimmed, equal to one of the values); otherwise the column's text is read as a JSON array
 * (MariaDB's JSON is text) through JSON_TABLE, and anything that is not an array has no items.
 */
function containsSql(clause: ConditionClause, value: string): Sql {
  if (clause.separator !== undefined) {
    const sep = regexQuote(clause.separator);
    const pattern = `(^|${sep})\\s*(${clause.values.map(regexQuote).join('|')})\\s*(${sep}|$)`;
    return sql(`CAST(${value} AS BINARY) REGEXP CAST(? AS BINARY)`, [pattern]);
  }
  const list = `IF(JSON_VALID(${value}) AND JSON_TYPE(${value}) = 'ARRAY', ${value}, '[]')`;
  return sql(
    `EXISTS (SELECT 1 FROM JSON_TABLE(${list}, '$[*]' COLUMNS (v LONGTEXT PATH '$')) AS item WHERE CAST(item.v AS BINARY) IN (${bytesList(clause.values.length)}))`,
    clause.values,
  );
}
