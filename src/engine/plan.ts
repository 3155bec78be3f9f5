import type { Action, ConflictPolicy, Entity, ValueMap } from '../api/entity.js';
import type { DefaultedEntity, DefaultedSyncFlowSpec } from '../api/defaults.js';
import type { SharedTargetRows } from '../api/syncflow.js';
import { ConfigError } from '../util/errors.js';
import { KeyCodec, keyKindOf, type KeyKind } from './keys.js';
import type { ConditionClause, Normalisation, PlannedValueMap, TableInfo, TransformName } from './connector.js';

export interface SidePlan {
  schema: string;
  table: string;
  keys: string[];
  keyKinds: KeyKind[];
  keyTypes: string[];
  codec: KeyCodec;
}

export interface FieldPlan {
  source: string;
  target: string;
  lookup?: string;
  /** Applied to the source value before it is hashed and written (each connector compiles it). */
  transform: TransformName;
  /** Applied after the transform (each connector compiles it); in a reverse plan, the inverse map. */
  valueMap?: PlannedValueMap;
  /** The target column's declared type, in the target system's words. */
  targetType: string;
  /** Index of the mapping in `spec.entities[].fields`: the same field in the forward and reverse plans. */
  mapping: number;
  conflictPolicy?: ConflictPolicy;
}

export interface EntityPlan {
  name: string;
  position: number;
  source: SidePlan & { updatedAt?: string; conditions: ConditionClause[] };
  target: SidePlan & {
    /** `generated`: target keys come from the column defaults; `mapped`: from mapped fields. */
    keyMode: 'generated' | 'mapped';
    /** The key columns' default expressions from the catalog, opaque to the engine (the connector draws keys with them). */
    keyDefaults: string[];
    identityAlways: boolean;
    /** False when new rows cannot get keys (no defaults, not mapped); only in a reverse plan. */
    creatable: boolean;
    archive?: { column: string; value: string; restoreValue?: string };
  };
  /** Mapped fields that are not target keys, in stage/hash order. */
  fields: FieldPlan[];
  /** For `mapped` key mode: the field mapping feeding each target key column. */
  keyFields: FieldPlan[];
  actions: Set<Action>;
  match: { source: string; target: string; normalize: Normalisation }[];
  requires: string[];
  conflictPolicy: ConflictPolicy;
  /** How far past now a source cursor may move the watermark (spec.cursorTolerance); default 24h. */
  cursorToleranceSeconds?: number;
  /** Target rows another flow links too: written and reported (Warn), or rejected (Refuse); spec.sharedTargetRows. */
  sharedTargetRows?: SharedTargetRows;
  /** TwoWay flows: the entity seen from the target (sides and mappings swapped), used to read and write the source. */
  reverse?: EntityPlan;
}

export interface FlowPlan {
  entities: EntityPlan[];
  batchSize: number;
}

type Catalog = (side: 'source' | 'target', table: string) => TableInfo | undefined;

/** Orders entities so every entity comes after the ones it requires or looks up. */
export function dependencyOrder<E extends Pick<Entity, 'name' | 'fields' | 'requires'>>(entities: E[]): E[] {
  const byName = new Map(entities.map((e) => [e.name, e]));
  const ordered: E[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (entity: E, trail: string[]) => {
    const mark = state.get(entity.name);
    if (mark === 'done') return;
    if (mark === 'visiting') throw new ConfigError(`dependency cycle: ${[...trail, entity.name].join(' -> ')}`);
    state.set(entity.name, 'visiting');
    for (const dependency of dependenciesOf(entity)) {
      const parent = byName.get(dependency);
      if (parent && parent !== entity) visit(parent, [...trail, entity.name]);
    }
    state.set(entity.name, 'done');
    ordered.push(entity);
  };
  for (const entity of entities) visit(entity, []);
  return ordered;
}

function dependenciesOf(entity: Pick<Entity, 'fields' | 'requires'>): string[] {
  const lookups = entity.fields.flatMap((f) => (f.lookup ? [f.lookup] : []));
  return [...new Set([...(entity.requires ?? []), ...lookups])];
}

/** The source conditions as a neutral tree (AND across clauses, OR across a clause's values). */
export function conditionTree(conditions: NonNullable<Entity['source']['conditions']>): ConditionClause[] {
  return conditions.map((c) => ({ field: c.field, operator: c.operator ?? 'In', values: c.values ?? [], ...(c.separator !== undefined ? { separator: c.separator } : {}) }));
}

function requireColumn(info: TableInfo, column: string, path: string) {
  const found = info.columns.get(column);
  if (!found) throw new ConfigError(`${path}: column "${column}" does not exist in table "${info.schema}.${info.table}"`);
  return found;
}

function sidePlan(info: TableInfo, keys: string[], path: string): SidePlan {
  const keyColumns = keys.map((k, i) => requireColumn(info, k, `${path}.keys[${i}]`));
  const keyKinds = keyColumns.map((c) => keyKindOf(c.typeName));
  return {
    schema: info.schema,
    table: info.table,
    keys,
    keyKinds,
    keyTypes: keyColumns.map((c) => c.sqlType),
    codec: new KeyCodec(keyKinds),
  };
}

/** Compiles the (defaulted) flow spec against the live table catalogs; every problem names its field path. */
export function planFlow(spec: DefaultedSyncFlowSpec, catalog: Catalog): FlowPlan {
  const indexOf = new Map(spec.entities.map((e, i) => [e.name, i]));
  const plans = dependencyOrder(spec.entities).map((entity, position) => {
    const path = `spec.entities[${indexOf.get(entity.name)}]`;
    const sourceInfo = catalog('source', entity.source.table);
    if (!sourceInfo) throw new ConfigError(`${path}.source.table: table "${entity.source.table}" does not exist in the source database`);
    const targetInfo = catalog('target', entity.target.table);
    if (!targetInfo) throw new ConfigError(`${path}.target.table: table "${entity.target.table}" does not exist in the target database`);
    const plan = planEntity(entity, path, position, sourceInfo, targetInfo, true);
    plan.cursorToleranceSeconds = spec.cursorToleranceSeconds;
    plan.sharedTargetRows = spec.sharedTargetRows;
    if (spec.direction === 'TwoWay') {
      plan.reverse = planEntity(reversed(entity), path, position, targetInfo, sourceInfo, false);
      if (plan.actions.has('createInSource') && !plan.reverse.target.creatable) {
        throw new ConfigError(
          `${path}.source.keys: createInSource needs source key columns with a default (serial, identity or expression) or mapped from target fields`,
        );
      }
    }
    return plan;
  });
  return { entities: plans, batchSize: spec.batchSize };
}

/** The same entity seen from the target: its sides and field mappings swapped (transforms apply one way only). */
function reversed(entity: DefaultedEntity): DefaultedEntity {
  return {
    ...entity,
    source: entity.target,
    target: entity.source,
    fields: entity.fields.map((f) => ({
      source: f.target,
      target: f.source,
      lookup: f.lookup,
      conflictPolicy: f.conflictPolicy,
      ...(f.valueMap ? { valueMap: invertedValueMap(f.valueMap) } : {}),
    })),
    match: entity.match?.map((m) => ({ source: m.target, target: m.source, normalize: m.normalize })),
  };
}

function plannedValueMap(map: ValueMap): PlannedValueMap {
  return { pairs: map.entries.map((e) => [e.source, e.target]), unmapped: map.unmapped ?? 'Keep' };
}

/** The map from the target's side: entries that map back (validation leaves one per target value). */
function invertedValueMap(map: ValueMap): ValueMap {
  return { ...map, entries: map.entries.filter((e) => e.reverse !== false).map((e) => ({ source: e.target, target: e.source })) };
}

function planEntity(
  entity: DefaultedEntity,
  path: string,
  position: number,
  sourceInfo: TableInfo,
  targetInfo: TableInfo,
  keyDefaultsRequired: boolean,
): EntityPlan {
  const source = sidePlan(sourceInfo, entity.source.keys, `${path}.source`);
  const target = sidePlan(targetInfo, entity.target.keys, `${path}.target`);
  if (entity.source.updatedAt) requireColumn(sourceInfo, entity.source.updatedAt, `${path}.source.updatedAt`);
  entity.source.conditions.forEach((c, i) => requireColumn(sourceInfo, c.field, `${path}.source.conditions[${i}].field`));

  const allFields: FieldPlan[] = entity.fields.map((f, i) => {
    requireColumn(sourceInfo, f.source, `${path}.fields[${i}].source`);
    const targetColumn = requireColumn(targetInfo, f.target, `${path}.fields[${i}].target`);
    return {
      source: f.source,
      target: f.target,
      lookup: f.lookup,
      transform: f.transform ?? 'None',
      ...(f.valueMap ? { valueMap: plannedValueMap(f.valueMap) } : {}),
      targetType: targetColumn.sqlType,
      mapping: i,
      conflictPolicy: f.conflictPolicy,
    };
  });
  const keyFields = entity.target.keys.map((k) => allFields.find((f) => f.target === k));
  const mapped = keyFields.every((f) => f !== undefined);
  const keyDefaults: string[] = [];
  let identityAlways = false;
  let creatable = true;
  if (!mapped) {
    entity.target.keys.forEach((k, i) => {
      const column = targetInfo.columns.get(k)!;
      if (!column.generated || !column.defaultExpr) {
        if (!keyDefaultsRequired) {
          creatable = false;
          return;
        }
        throw new ConfigError(`${path}.target.keys[${i}]: column "${k}" has no default (serial, identity or expression) and no field maps to it`);
      }
      keyDefaults.push(column.defaultExpr);
      if (column.identity === 'a') identityAlways = true;
    });
  }
  const archive = entity.target.archive;
  if (archive) requireColumn(targetInfo, archive.column, `${path}.target.archive.column`);
  (entity.match ?? []).forEach((m, i) => {
    requireColumn(sourceInfo, m.source, `${path}.match[${i}].source`);
    requireColumn(targetInfo, m.target, `${path}.match[${i}].target`);
  });

  return {
    name: entity.name,
    position,
    source: { ...source, updatedAt: entity.source.updatedAt, conditions: conditionTree(entity.source.conditions) },
    target: {
      ...target,
      keyMode: mapped ? 'mapped' : 'generated',
      keyDefaults: creatable ? keyDefaults : [],
      identityAlways,
      creatable,
      archive,
    },
    fields: mapped ? allFields.filter((f) => !entity.target.keys.includes(f.target)) : allFields,
    keyFields: mapped ? (keyFields as FieldPlan[]) : [],
    actions: new Set(entity.actions),
    match: (entity.match ?? []).map((m) => ({ source: m.source, target: m.target, normalize: m.normalize ?? 'None' })),
    requires: dependenciesOf(entity),
    conflictPolicy: entity.conflictPolicy,
  };
}
