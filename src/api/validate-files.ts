import picomatch from 'picomatch';
import { DEFAULTS } from './defaults-values.js';
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

/** A glob picomatch cannot make a regular expression of matches no file at all; say so instead. */
function globProblem(pattern: string): string | undefined {
  try {
    picomatch.makeRe(pattern, { dot: false, debug: true });
    return undefined;
  } catch (problem) {
    const why = (problem as Error).message.replace(/^Invalid regular expression: \/.*\/: /, '');
    return `not a glob that can match a name (${why}: an unclosed "{" or "(", a range such as [9-0], or a trailing "\\")`;
  }
}

/** The directories of a files source are below its location; a ".." part would leave it. */
const leavesLocation = (directory: string | undefined) => directory !== undefined && directory.split('/').includes('..');

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
  // Repeats the CEL rule of spec.source.files for clusters that do not evaluate CEL.
  if (endpoint && (endpoint.directory === undefined) === (endpoint.exportTargetRef === undefined)) {
    errors.push(error('spec.source.files', 'exactly one of directory or exportTargetRef must be set'));
  }
  for (const field of ['subdirectory', 'processedDirectory', 'failedDirectory'] as const) {
    if (leavesLocation(endpoint?.[field])) errors.push(error(`spec.source.files.${field}`, 'must stay below the location: no ".." part'));
  }
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
    const glob = globProblem(file.pattern);
    if (glob) errors.push(error(at('source', 'file', 'pattern'), glob));
    if (raw.entities?.[i]?.source.updatedAt !== undefined) {
      errors.push(error(at('source', 'updatedAt'), `not used on a files source: changes are ordered by the files themselves (${FILE_POSITION_COLUMN})`));
    }
    entity.actions.forEach((action, k) => {
      if (!SOURCE_WRITING_ACTIONS.includes(action)) return;
      errors.push(error(raw.entities?.[i]?.actions ? at('actions', k) : at('actions'), `${action} writes to the source, but a files source is read-only; list the actions without it`));
    });
    if (spec.direction === 'TwoWay') errors.push(...twoWayFileErrors(raw.entities?.[i], at));
    if (file.deletedWhen && file.contents !== 'Delta') errors.push(error(at('source', 'file', 'deletedWhen'), 'only used with contents: Delta'));
    if (file.allowEmptySnapshot !== undefined && file.contents !== 'Snapshot') errors.push(error(at('source', 'file', 'allowEmptySnapshot'), 'only used with contents: Snapshot'));
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
    // Either one may be left to its default: a quote "," with the default delimiter is as unreadable.
    if (file.csv && (file.csv.delimiter ?? DEFAULTS.csvDelimiter) === (file.csv.quote ?? DEFAULTS.csvQuote)) {
      if (file.csv.quote === undefined) errors.push(error(at('source', 'file', 'csv', 'delimiter'), `must differ from the quote ('${DEFAULTS.csvQuote}', the default)`));
      else errors.push(error(at('source', 'file', 'csv', 'quote'), `must differ from the delimiter${file.csv.delimiter === undefined ? ` ("${DEFAULTS.csvDelimiter}", the default)` : ''}`));
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
