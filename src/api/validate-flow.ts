import { findDependencyCycles } from './dependency-graph.js';
import { exportQueryProblem } from './export-query.js';
import { exportChangesErrors } from './validate-export-changes.js';
import { parseWindow, withFlowDefaults, type DefaultedSide, type DefaultedSyncFlowSpec } from './defaults.js';
import { SOURCE_WRITING_ACTIONS, type Entity } from './entity.js';
import { referencedColumnProblems, relationColumn } from './related.js';
import type { SyncFlow } from './syncflow.js';
import { kindsSet, oneOfMessage } from './systems.js';
import { catalogErrors, type TableCatalog } from './validate-catalog.js';
import { fileNameTemplateProblem, repeatedItems } from './validate-helpers.js';
import { cronProblem, timeZoneProblem } from './validate-schedule.js';
import { filesErrors } from './validate-files.js';
import { httpErrors } from './validate-http.js';
import { valueMapErrors } from './validate-value-map.js';
import { webhookErrors } from './validate-webhook.js';
import { fieldPath, type ValidationError } from './validation-error.js';

export interface FlowValidationOptions {
  /** When given, tables and columns are checked against the live databases. */
  catalog?: TableCatalog;
}

type Errors = ValidationError[];
const error = (path: string, message: string): ValidationError => ({ path, message });

function duplicateNames(errors: Errors, items: readonly { name: string }[], list: string, what: string) {
  for (const { index, first, key } of repeatedItems(items, (i) => i.name)) {
    errors.push(error(fieldPath('spec', list, index, 'name'), `duplicate ${what} name "${key}" (also at spec.${list}[${first}])`));
  }
}

function duplicateValues(errors: Errors, values: readonly string[] | undefined, path: string, what: string) {
  for (const { index, key } of repeatedItems(values ?? [], (v) => v)) {
    errors.push(error(fieldPath(path, index), `duplicate ${what} "${key}"`));
  }
}

function unknownEntities(errors: Errors, names: readonly string[] | undefined, path: string, known: Set<string>) {
  (names ?? []).forEach((name, index) => {
    if (!known.has(name)) errors.push(error(fieldPath(path, index), `unknown entity "${name}"`));
  });
}

function checkSide(errors: Errors, side: DefaultedSide, path: string) {
  duplicateValues(errors, side.keys, fieldPath(path, 'keys'), 'key column');
  side.conditions.forEach((condition, k) => {
    const at = fieldPath(path, 'conditions', k, 'values');
    const takesValues = condition.operator === 'In' || condition.operator === 'NotIn' || condition.operator === 'Contains';
    if (condition.separator !== undefined && condition.operator !== 'Contains') {
      errors.push(error(fieldPath(path, 'conditions', k, 'separator'), `a separator is only used with operator Contains`));
    }
    if (takesValues && condition.values.length === 0) {
      errors.push(error(at, `operator ${condition.operator} needs at least one value`));
    } else if (!takesValues && condition.values.length > 0) {
      errors.push(error(at, `values are not used with operator ${condition.operator}`));
    }
    // PostgreSQL text cannot hold NUL, and the wire protocol refuses it with an opaque error.
    condition.values.forEach((value, v) => {
      if (value.includes('\0')) errors.push(error(fieldPath(at, v), 'must not contain a NUL character (\\u0000)'));
    });
  });
}

function checkEntity(errors: Errors, spec: DefaultedSyncFlowSpec, raw: Entity, i: number) {
  const entity = spec.entities[i];
  const at = (...segments: (string | number)[]) => fieldPath('spec', 'entities', i, ...segments);
  const byName = new Map(spec.entities.map((e) => [e.name, e]));
  const known = new Set(byName.keys());

  checkSide(errors, entity.source, at('source'));
  checkSide(errors, entity.target, at('target'));

  duplicateValues(errors, raw.requires, at('requires'), 'entity');
  unknownEntities(errors, raw.requires, at('requires'), known);
  (raw.requires ?? []).forEach((name, k) => {
    if (name === entity.name) errors.push(error(at('requires', k), 'an entity cannot require itself'));
  });

  duplicateValues(errors, entity.related.map((r) => r.entity), at('related'), 'related entity');
  entity.related.forEach((related, k) => {
    if (!known.has(related.entity)) errors.push(error(at('related', k, 'entity'), `unknown entity "${related.entity}"`));
    else if (related.entity === entity.name) errors.push(error(at('related', k, 'entity'), 'an entity cannot be related to itself'));
    else {
      const child = byName.get(related.entity)!;
      const link = relationColumn(entity.name, child, related);
      if ('problem' in link) errors.push(error(at('related', k, related.via !== undefined ? 'via' : 'entity'), link.problem));
      for (const { index, problem } of referencedColumnProblems(child, related)) {
        errors.push(error(at('related', k, 'includeReferenced', index), problem));
      }
    }
  });

  entity.fields.forEach((field, k) => {
    if (!field.lookup) return;
    const lookupPath = at('fields', k, 'lookup');
    const parent = byName.get(field.lookup);
    if (!parent) {
      errors.push(error(lookupPath, `unknown entity "${field.lookup}"`));
      return;
    }
    if (parent.name !== entity.name && !entity.requires.includes(field.lookup)) {
      errors.push(error(lookupPath, `entity "${field.lookup}" must be listed in requires so it syncs first`));
    }
    if (new Set(parent.source.keys).size !== 1 || new Set(parent.target.keys).size !== 1) {
      errors.push(error(lookupPath, `entity "${field.lookup}" has a composite key; a lookup needs a single key column on each side`));
    }
  });

  entity.fields.forEach((field, k) => {
    // Nothing is written back to a files source, so its value maps need not map back.
    errors.push(...valueMapErrors(field, spec.source.files ? 'OneWay' : spec.direction, at('fields', k)));
    if (field.valueMap && field.lookup) errors.push(error(at('fields', k, 'valueMap'), 'a lookup field translates keys through pairs; it takes no value map'));
  });

  for (const { index, first, key } of repeatedItems(entity.fields, (f) => f.target)) {
    errors.push(error(at('fields', index, 'target'), `column "${key}" is already mapped by fields[${first}]`));
  }

  duplicateValues(errors, raw.actions, at('actions'), 'action');
  (raw.actions ?? []).forEach((action, k) => {
    if (spec.direction === 'OneWay' && SOURCE_WRITING_ACTIONS.includes(action)) {
      errors.push(error(at('actions', k), `action "${action}" writes to the source; a OneWay flow never does (use direction TwoWay)`));
    }
  });
  entity.actions.forEach((action, k) => {
    const side = action === 'archiveInSource' ? 'source' : action === 'archiveInTarget' ? 'target' : undefined;
    if (side && !entity[side].archive) {
      const path = raw.actions ? at('actions', k) : at('actions');
      errors.push(error(path, `action "${action}" needs ${side}.archive (the column that marks a record archived)`));
    }
  });
}

function checkScopes(errors: Errors, spec: DefaultedSyncFlowSpec, known: Set<string>) {
  duplicateNames(errors, spec.scopes, 'scopes', 'scope');
  spec.scopes.forEach((scope, i) => {
    const at = fieldPath('spec', 'scopes', i);
    duplicateValues(errors, scope.entities, fieldPath(at, 'entities'), 'entity');
    unknownEntities(errors, scope.entities, fieldPath(at, 'entities'), known);
    duplicateValues(errors, scope.exclude, fieldPath(at, 'exclude'), 'entity');
    unknownEntities(errors, scope.exclude, fieldPath(at, 'exclude'), known);
  });
}

/** Entities lacking the cursor columns an Incremental run reads, as [index, side] pairs. */
export function missingCursors(spec: DefaultedSyncFlowSpec): { index: number; side: 'source' | 'target' }[] {
  const sides: ('source' | 'target')[] = spec.direction === 'TwoWay' ? ['source', 'target'] : ['source'];
  return spec.entities.flatMap((entity, index) =>
    sides.filter((side) => !entity[side].updatedAt).map((side) => ({ index, side })),
  );
}

function checkSchedules(errors: Errors, spec: DefaultedSyncFlowSpec) {
  duplicateNames(errors, spec.schedules, 'schedules', 'schedule');
  const scopes = new Set(spec.scopes.map((s) => s.name));
  const reported = new Set<string>();
  spec.schedules.forEach((schedule, i) => {
    const at = (...segments: (string | number)[]) => fieldPath('spec', 'schedules', i, ...segments);
    const zoneProblem = timeZoneProblem(schedule.timeZone);
    if (zoneProblem) errors.push(error(at('timeZone'), zoneProblem));
    const cron = cronProblem(schedule.cron, zoneProblem ? undefined : schedule.timeZone);
    if (cron) errors.push(error(at('cron'), cron));
    duplicateValues(errors, schedule.enabledIn, at('enabledIn'), 'environment');

    if (schedule.mode === 'Scope') {
      if (!schedule.scope) errors.push(error(at('scope'), 'scope is required when mode is Scope'));
      else if (!scopes.has(schedule.scope)) errors.push(error(at('scope'), `unknown scope "${schedule.scope}"`));
    } else if (schedule.scope) {
      errors.push(error(at('scope'), `scope is only used with mode Scope, not ${schedule.mode}`));
    }
    if (schedule.mode !== 'Scope' && schedule.scopeMode) {
      errors.push(error(at('scopeMode'), `scopeMode is only used with mode Scope, not ${schedule.mode}`));
    }

    if (schedule.mode === 'Incremental') {
      for (const { index, side } of missingCursors(spec)) {
        const path = fieldPath('spec', 'entities', index, side, 'updatedAt');
        if (reported.has(path)) continue;
        reported.add(path);
        errors.push(error(path, `required by the Incremental schedule "${schedule.name}"`));
      }
    }
  });
}

/** Repeats the CEL one-of rules of spec.source and spec.target for clusters that do not evaluate CEL. */
function checkSystems(errors: Errors, spec: SyncFlow['spec']) {
  for (const side of ['source', 'target'] as const) {
    if (kindsSet(spec[side], side).length !== 1) errors.push(error(`spec.${side}`, oneOfMessage(side)));
  }
}

function checkTarget(errors: Errors, spec: DefaultedSyncFlowSpec) {
  const settings = spec.target.export;
  if (!settings) {
    if (spec.entities.length === 0) errors.push(error('spec.entities', 'at least one entity is required'));
    return;
  }
  if (spec.direction !== 'OneWay') errors.push(error('spec.direction', 'must be OneWay when the target is an export'));
  // Events read a change log filled by triggers Ferry installs on PostgreSQL only (see connectors/postgres/change-log.ts).
  if (spec.source.mysql && settings.mode === 'Events') {
    errors.push(error('spec.target.export.mode', 'Events exports need a change log, which Ferry keeps on PostgreSQL sources only; use Changes or Snapshot with a mysql source'));
  }
  if (settings.query && spec.entities.length > 0) {
    errors.push(error('spec.target.export.query', 'set either export.query or entities, not both'));
  } else if (!settings.query && spec.entities.length === 0) {
    errors.push(error('spec.entities', 'an export needs entities or export.query'));
  }
  if (settings.query) {
    const problem = exportQueryProblem(settings.query, spec.source.mysql ? 'mysql' : 'postgres');
    if (problem) errors.push(error('spec.target.export.query', problem));
  }
  errors.push(...exportChangesErrors(spec));
  if (settings.targets.length === 0) errors.push(error('spec.target.export.targets', 'at least one ExportTarget is required'));
  for (const { index, key } of repeatedItems(settings.targets, (t) => t.name)) {
    errors.push(error(fieldPath('spec.target.export.targets', index, 'name'), `duplicate ExportTarget "${key}"`));
  }
  if (settings.timeZone) {
    const problem = timeZoneProblem(settings.timeZone);
    if (problem) errors.push(error('spec.target.export.timeZone', problem));
  }
  if (settings.fileNameTemplate) {
    const problem = fileNameTemplateProblem(settings.fileNameTemplate);
    if (problem) errors.push(error('spec.target.export.fileNameTemplate', problem));
  }
}

function checkLoopProtection(errors: Errors, spec: SyncFlow['spec']) {
  const loop = spec.loopProtection;
  if (!loop?.window) return;
  const seconds = parseWindow(loop.window);
  if (seconds === undefined) errors.push(error('spec.loopProtection.window', `"${loop.window}" is not a duration like 1h, 30m or 1h30m`));
  else if (seconds > 604800) errors.push(error('spec.loopProtection.window', 'at most 168h'));
  if (loop.oneWayWindowSeconds !== undefined) {
    errors.push(error('spec.loopProtection.window', 'set either window or oneWayWindowSeconds, not both'));
  }
}

/**
 * Semantic checks a CRD schema cannot express. Expects a manifest that passed the schema check
 * (objects from the API server always have); returns every problem found, each with its field path.
 */
export function validateSyncFlow(flow: SyncFlow, options: FlowValidationOptions = {}): ValidationError[] {
  const errors: Errors = [];
  const spec = withFlowDefaults(flow.spec);
  const known = new Set(spec.entities.map((e) => e.name));

  checkSystems(errors, flow.spec);
  checkTarget(errors, spec);
  errors.push(...httpErrors(spec));
  errors.push(...webhookErrors(spec));
  duplicateNames(errors, spec.entities, 'entities', 'entity');
  (flow.spec.entities ?? []).forEach((raw, i) => checkEntity(errors, spec, raw, i));
  const indexOf = new Map(spec.entities.map((e, i) => [e.name, i]));
  for (const cycle of findDependencyCycles(spec.entities)) {
    errors.push(error(fieldPath('spec', 'entities', indexOf.get(cycle[0])!), `dependency cycle: ${cycle.join(' -> ')}`));
  }
  checkScopes(errors, spec, known);
  checkSchedules(errors, spec);
  duplicateValues(errors, spec.notifications?.adminEmails, 'spec.notifications.adminEmails', 'e-mail address');
  errors.push(...filesErrors(spec, flow.spec));
  checkLoopProtection(errors, flow.spec);
  if (options.catalog) errors.push(...catalogErrors(spec, options.catalog));
  return errors;
}
