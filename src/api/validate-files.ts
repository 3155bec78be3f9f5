import { SOURCE_WRITING_ACTIONS, type ConflictPolicy, type Entity } from './entity.js';
import type { DefaultedSyncFlowSpec } from './defaults.js';
import { FILE_POSITION_COLUMN, type FileSource } from './files.js';
import type { SyncFlow } from './syncflow.js';
import { fieldPath, type ValidationError } from './validation-error.js';

const error = (path: string, message: string): ValidationError => ({ path, message });

function regexProblem(text: string): string | undefined {
  try {
    const groups = new RegExp(`${text}|`).exec('')!.length - 1;
    return groups >= 1 ? undefined : 'needs a capturing group: the part of the name to order by';
  } catch (problem) {
    return `not a regular expression (${(problem as Error).message})`;
  }
}

/** Conflict policies that may take the database's value, which would then be written into the files. */
const WRITING_POLICIES: readonly (ConflictPolicy | undefined)[] = ['NewerWins', 'TargetWins'];

/**
 * A two-way entity whose source is files: nothing may be written to them, so a conflict resolves
 * toward the file (SourceWins) or waits for a person (Manual). Snapshot and Delta files both work:
 * a Delta side's records are kept as its files leave them (ferry.file_side_records).
 */
function twoWayFileErrors(raw: Entity | undefined, at: (...segments: (string | number)[]) => string): ValidationError[] {
  const errors: ValidationError[] = [];
  const refusal = (policy: string) =>
    `${policy} could pick the target's value and write it into the files, which are read-only; use SourceWins (the file's value goes to the database) or Manual`;
  if (WRITING_POLICIES.includes(raw?.conflictPolicy)) errors.push(error(at('conflictPolicy'), refusal(raw!.conflictPolicy!)));
  (raw?.fields ?? []).forEach((field, k) => {
    if (WRITING_POLICIES.includes(field.conflictPolicy)) errors.push(error(at('fields', k, 'conflictPolicy'), refusal(field.conflictPolicy!)));
  });
  return errors;
}

/**
 * The files parts of a flow: a file block on every entity source when the source is files (and
 * nowhere else), a readable CSV layout, and no action or conflict policy that would write to the
 * files, which are read-only (also as one side of a two-way flow). Takes the raw spec too: updatedAt is the file position there, not the user's.
 */
export function filesErrors(spec: DefaultedSyncFlowSpec, raw: SyncFlow['spec']): ValidationError[] {
  const errors: ValidationError[] = [];
  const endpoint = spec.source.files;
  if (endpoint && spec.target.export) errors.push(error('spec.source.files', 'an export reads a database; a files source cannot feed one'));
  if (endpoint?.volumeClaim && !endpoint.directory) errors.push(error('spec.source.files.volumeClaim', 'only used with directory'));
  if (endpoint?.afterImport !== 'Move' && endpoint?.processedDirectory) {
    errors.push(error('spec.source.files.processedDirectory', 'only used with afterImport: Move'));
  }
  spec.entities.forEach((entity, i) => {
    const at = (...segments: (string | number)[]) => fieldPath('spec', 'entities', i, ...segments);
    if (entity.target.file) errors.push(error(at('target', 'file'), 'files are a source only'));
    const file = entity.source.file;
    if (!endpoint) {
      if (file) errors.push(error(at('source', 'file'), 'only used when spec.source is files'));
      return;
    }
    if (!file) {
      errors.push(error(at('source', 'file'), 'required: spec.source is files, so this side names the files that hold the entity'));
      return;
    }
    if (raw.entities?.[i]?.source.updatedAt !== undefined) {
      errors.push(error(at('source', 'updatedAt'), `not used on a files source: changes are ordered by the files themselves (${FILE_POSITION_COLUMN})`));
    }
    entity.actions.forEach((action, k) => {
      if (!SOURCE_WRITING_ACTIONS.includes(action)) return;
      errors.push(error(raw.entities?.[i]?.actions ? at('actions', k) : at('actions'), `${action} writes to the source, but a files source is read-only; list the actions without it`));
    });
    if (spec.direction === 'TwoWay') errors.push(...twoWayFileErrors(raw.entities?.[i], at));
    if (file.deletedWhen && file.contents !== 'Delta') errors.push(error(at('source', 'file', 'deletedWhen'), 'only used with contents: Delta'));
    if (file.orderCapture) {
      if (file.orderBy === 'Modified') errors.push(error(at('source', 'file', 'orderCapture'), 'only used with orderBy: Name'));
      const problem = regexProblem(file.orderCapture);
      if (problem) errors.push(error(at('source', 'file', 'orderCapture'), problem));
    }
    const format = file.format ?? 'Csv';
    if (format !== 'Csv' && file.csv) errors.push(error(at('source', 'file', 'csv'), `only used with format: Csv, not ${format}`));
    if (format === 'Csv' && file.csv?.header === false && !file.columns?.length) {
      errors.push(error(at('source', 'file', 'columns'), 'required when csv.header is false: the columns in file order'));
    }
    if (file.csv?.delimiter !== undefined && file.csv.delimiter === file.csv.quote) {
      errors.push(error(at('source', 'file', 'csv', 'quote'), 'must differ from the delimiter'));
    }
    const names = new Set<string>();
    (file.columns ?? []).forEach((column, c) => {
      if (names.has(column.name)) errors.push(error(at('source', 'file', 'columns', c, 'name'), `duplicate column "${column.name}"`));
      names.add(column.name);
      if (column.format && column.type !== 'Date' && column.type !== 'Timestamp') {
        errors.push(error(at('source', 'file', 'columns', c, 'format'), 'only used with type Date or Timestamp'));
      }
    });
  });
  return errors;
}
