import type { ConditionClause } from '../../engine/connector.js';
import { ConfigError } from '../../util/errors.js';
import { bytesList, column, exact, type ColumnTypes } from './expressions.js';
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
      default:
        throw new ConfigError(`unknown condition operator ${String(clause.operator)}`);
    }
  });
  return joinSql(
    parts.map((p) => ({ ...p, text: `(${p.text})` })),
    ' AND ',
  );
}
