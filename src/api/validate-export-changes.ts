import type { DefaultedSyncFlowSpec } from './defaults.js';
import { fieldPath, type ValidationError } from './validation-error.js';

/**
 * A free export query is a Snapshot, or in Changes mode names its key and cursor columns
 * (`export.changes`), which Ferry compiles on PostgreSQL sources only.
 */
export function exportChangesErrors(spec: DefaultedSyncFlowSpec): ValidationError[] {
  const settings = spec.target.export;
  if (!settings) return [];
  const { changes, query, mode } = settings;
  const at = 'spec.target.export.changes';
  if (!query) return changes ? [{ path: at, message: 'only a query export takes changes (an entity names its cursor in source.updatedAt)' }] : [];
  if (mode === 'Snapshot') return changes ? [{ path: at, message: 'only used in Changes mode' }] : [];
  if (mode !== 'Changes') return [{ path: 'spec.target.export.mode', message: `a query is exported in Snapshot or Changes mode, not ${mode}` }];
  if (!changes) return [{ path: at, message: 'a query in Changes mode needs changes.keys and changes.cursor: its columns that identify a row and move forward when it or its related rows change' }];
  const errors: ValidationError[] = [];
  if (spec.source.mysql) errors.push({ path: at, message: 'Changes exports of a query are supported on PostgreSQL sources only; use Snapshot mode, or an entity in Changes mode' });
  changes.keys.forEach((key, i) => {
    if (key === changes.cursor) errors.push({ path: fieldPath(at, 'keys', i), message: `"${key}" is the cursor column; a key must be another column` });
    if (changes.keys.indexOf(key) !== i) errors.push({ path: fieldPath(at, 'keys', i), message: `duplicate key column "${key}"` });
  });
  return errors;
}
