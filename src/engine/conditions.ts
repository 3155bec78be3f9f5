import type { Action } from '../api/entity.js';
import type { DefaultedSideCondition } from '../api/defaults.js';
import type { ConditionClause } from './connector.js';

/**
 * Which side's conditions an action checks (seed 002). Conditions are evaluated in SQL on each side
 * (plan.ts `conditionSql`); a row without conditions on its side is always in scope.
 *
 * - `link`: the row found by its own side's conditions; the partner is searched on the other side
 *   without conditions.
 * - `createInTarget` (export): the source row's conditions; the target is searched without conditions
 *   so no duplicate is created.
 * - `createInSource` (import): the target row's conditions; likewise mirrored.
 * - update actions: the pair is taken into account when at least one side meets its conditions.
 * - archive/delete in the source: the source row's conditions, when its target partner vanished.
 * - archive/delete in the target: the target row's conditions, when its source partner vanished.
 */
export type ConditionRule = 'ownSide' | 'source' | 'target' | 'either';

export const ACTION_CONDITIONS: Record<Action, ConditionRule> = {
  link: 'ownSide',
  createInTarget: 'source',
  createInSource: 'target',
  updateNewerWins: 'either',
  updateSource: 'either',
  updateTarget: 'either',
  archiveInSource: 'source',
  deleteInSource: 'source',
  archiveInTarget: 'target',
  deleteInTarget: 'target',
};

export interface ScopeFlags {
  source?: boolean;
  target?: boolean;
}

/**
 * Whether an action may act on a record or pair, given which of its rows meet their side's
 * conditions. `ownSide` is for a single unpaired row: pass the flag of the side it lives on.
 */
export function conditionsAllow(action: Action, inScope: ScopeFlags): boolean {
  switch (ACTION_CONDITIONS[action]) {
    case 'source':
      return inScope.source === true;
    case 'target':
      return inScope.target === true;
    case 'either':
      return inScope.source === true || inScope.target === true;
    case 'ownSide':
      return inScope.source === true || inScope.target === true;
  }
}

/**
 * Evaluates conditions against a row of text values, exactly as the SQL form does: AND across
 * conditions, OR across one condition's values, no conditions = every row. Used where rows are
 * already in memory (e.g. `ferry pairs`) and by the tests that pin the rules down.
 */
export function rowMeetsConditions(conditions: readonly DefaultedSideCondition[], row: Record<string, string | null | undefined>): boolean {
  return conditions.every((condition) => conditionHolds(condition, row[condition.field] ?? null));
}

/** One condition on one value's text form; connectors that filter in memory (http, files) use it too. */
export function conditionHolds(condition: Pick<ConditionClause, 'operator' | 'values' | 'separator'>, value: string | null): boolean {
  switch (condition.operator) {
    case 'In':
      return value !== null && condition.values.includes(value);
    case 'NotIn':
      return value === null || !condition.values.includes(value);
    case 'IsNull':
      return value === null;
    case 'NotNull':
      return value !== null;
    case 'Contains':
      return value !== null && listItems(value, condition.separator).some((item) => condition.values.includes(item));
    default:
      return false;
  }
}

/** The items of a list value as its text form shows them: delimited text, a JSON array, or a PostgreSQL array literal. */
function listItems(value: string, separator: string | undefined): string[] {
  if (separator !== undefined) return value.split(separator).map((item) => item.trim());
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))) : [];
  } catch {
    // Not JSON: a PostgreSQL array literal such as {a,"b c"} (one dimension).
    const match = /^\{(.*)\}$/s.exec(value);
    if (!match) return [];
    return [...match[1].matchAll(/"((?:[^"\\]|\\.)*)"|([^,]+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
  }
}
