import { UNMAPPED_MARK, type ConditionClause, type Normalisation, type PlannedValueMap, type TransformName } from '../../engine/connector.js';
import type { KeyKind } from '../../engine/keys.js';
import { ConfigError } from '../../util/errors.js';
import { ident, literal } from '../../util/sql.js';

const TRANSFORMS: Record<TransformName, (expr: string) => string> = {
  None: (e) => e,
  Trim: (e) => `btrim(${e})`,
  Lower: (e) => `lower(${e})`,
  Upper: (e) => `upper(${e})`,
};

/** The source value of a mapping, with its transform applied. */
export function transformSql(expr: string, transform: TransformName): string {
  return TRANSFORMS[transform](expr);
}

/** A mapped field's value as the other side gets it: the transform, then the value map (as text). */
export function mappedValueSql(expr: string, field: { transform: TransformName; valueMap?: PlannedValueMap }): string {
  const transformed = transformSql(expr, field.transform);
  return field.valueMap ? valueMapSql(transformed, field.valueMap) : transformed;
}

function valueMapSql(expr: string, map: PlannedValueMap): string {
  const value = `(${expr})::text`;
  const whens = map.pairs.map(([from, to]) => `WHEN ${literalFor(from, 'value map')} THEN ${literalFor(to, 'value map')}`).join(' ');
  const otherwise = map.unmapped === 'Null' ? 'NULL' : map.unmapped === 'Reject' ? `${literal(UNMAPPED_MARK)} || ${value}` : value;
  return `CASE ${value} ${whens} ELSE ${otherwise} END`;
}

/** A condition tree as a boolean SQL expression over a row (`true` when it has no clauses). */
export function conditionSql(conditions: ConditionClause[], column: (name: string) => string = ident): string {
  if (conditions.length === 0) return 'true';
  return conditions.map((c) => `(${clauseSql(c, column(c.field))})`).join(' AND ');
}

/** `literal`, with a refusal that names what the value is for (PostgreSQL text cannot hold NUL). */
export function literalFor(value: string, what: string): string {
  if (value.includes('\0')) throw new ConfigError(`${what}: the value ${JSON.stringify(value)} contains a NUL character, which PostgreSQL text cannot hold`);
  return literal(value);
}

function clauseSql(c: ConditionClause, column: string): string {
  const values = c.values.map((v) => literalFor(v, `condition on ${c.field}`)).join(', ');
  switch (c.operator) {
    case 'In':
      return `(${column})::text IN (${values})`;
    case 'NotIn':
      return `(${column} IS NULL OR (${column})::text NOT IN (${values}))`;
    case 'IsNull':
      return `${column} IS NULL`;
    case 'NotNull':
      return `${column} IS NOT NULL`;
    case 'Contains':
      return `EXISTS (SELECT 1 FROM ${listItems(c, column)} AS item(v) WHERE item.v IN (${values}))`;
    default:
      throw new ConfigError(`unknown condition operator ${String(c.operator)}`);
  }
}

/**
 * The items of a list column as a set of text rows: delimited text split at the separator (items
 * trimmed), otherwise whatever the column holds as a JSON array (a PostgreSQL array becomes one;
 * json and jsonb are one). Anything that is not a list has no items.
 */
function listItems(c: ConditionClause, column: string): string {
  if (c.separator !== undefined) return `unnest(string_to_array((${column})::text, ${literalFor(c.separator, `separator of ${c.field}`)})) AS raw(v) CROSS JOIN LATERAL (SELECT btrim(raw.v))`;
  const json = `to_jsonb(${column})`;
  return `jsonb_array_elements_text(CASE WHEN jsonb_typeof(${json}) = 'array' THEN ${json} ELSE '[]'::jsonb END)`;
}

export function normaliseSql(expr: string, mode: Normalisation): string {
  switch (mode) {
    case 'Lower':
      return `lower(${expr})`;
    case 'Trim':
      return `btrim(${expr})`;
    case 'LowerTrim':
      return `lower(btrim(${expr}))`;
    default:
      return expr;
  }
}

/** Sorts a key column like the engine's key encoding does (integers by value, text by bytes). */
export function orderExpression(quotedColumn: string, kind: KeyKind): string {
  return kind === 'integer' ? quotedColumn : `${quotedColumn}::text COLLATE "C"`;
}
