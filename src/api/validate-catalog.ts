import { typeMismatch, type ColumnType } from './column-types.js';
import type { DefaultedEntity, DefaultedSide, DefaultedSyncFlowSpec } from './defaults.js';
import { databaseOf } from './systems.js';
import { fieldPath, type ValidationError } from './validation-error.js';

export type { ColumnType } from './column-types.js';

type SideName = 'source' | 'target';

/** Table metadata of the live databases; undefined means the table does not exist. */
export interface TableCatalog {
  tableColumns(side: SideName, table: string): string[] | undefined;
  /** A column's type; without it (or for an unknown column) types go unchecked. */
  columnType?(side: SideName, table: string, column: string): ColumnType | undefined;
  /** The sides whose database was read (default both); a side that could not be read is not checked. */
  sides?: readonly SideName[];
}

const OTHER: Record<SideName, SideName> = { source: 'target', target: 'source' };

function sideColumns(side: DefaultedSide): { path: (string | number)[]; column: string }[] {
  return [
    ...side.keys.map((column, j) => ({ path: ['keys', j], column })),
    ...(side.updatedAt ? [{ path: ['updatedAt'], column: side.updatedAt }] : []),
    ...side.conditions.map((c, k) => ({ path: ['conditions', k, 'field'], column: c.field })),
    ...(side.archive ? [{ path: ['archive', 'column'], column: side.archive.column }] : []),
  ];
}

/** The database sides of the flow that the catalog has read. */
function checkedSides(spec: DefaultedSyncFlowSpec, catalog: TableCatalog): SideName[] {
  const sides: SideName[] = databaseOf(spec.target, 'target') ? ['source', 'target'] : ['source'];
  return sides.filter((side) => !catalog.sides || catalog.sides.includes(side));
}

function missingColumns(spec: DefaultedSyncFlowSpec, catalog: TableCatalog, sides: SideName[]): ValidationError[] {
  const errors: ValidationError[] = [];
  spec.entities.forEach((entity, i) => {
    for (const sideName of sides) {
      const side = entity[sideName];
      const columns = catalog.tableColumns(sideName, side.table);
      const at = (...segments: (string | number)[]) => fieldPath('spec', 'entities', i, ...segments);
      if (!columns) {
        errors.push({ path: at(sideName, 'table'), message: `table "${side.table}" does not exist in the ${sideName} database` });
        continue;
      }
      const known = new Set(columns);
      const used = [
        ...sideColumns(side).map(({ path, column }) => ({ path: [sideName, ...path], column })),
        ...entity.fields.map((f, k) => ({ path: ['fields', k, sideName], column: f[sideName] })),
        ...(entity.match ?? []).map((m, k) => ({ path: ['match', k, sideName], column: m[sideName] })),
      ];
      for (const { path, column } of used) {
        if (!known.has(column)) {
          errors.push({ path: at(...path), message: `column "${column}" does not exist in table "${side.table}"` });
        }
      }
    }
  });
  return errors;
}

/**
 * What a mapping writes into its `to` column: the `from` column's values, or for a lookup the
 * referenced entity's key on the `to` side (the linked key is what gets written).
 */
function writtenValue(
  spec: DefaultedSyncFlowSpec,
  catalog: TableCatalog,
  entity: DefaultedEntity,
  field: DefaultedEntity['fields'][number],
  from: SideName,
): { type: ColumnType; describe: (family: string) => string } | undefined {
  const to = OTHER[from];
  if (!field.lookup) {
    const type = catalog.columnType?.(from, entity[from].table, field[from]);
    return type && { type, describe: (family) => `the ${from}'s ${family} values of "${field[from]}"` };
  }
  const parent = spec.entities.find((e) => e.name === field.lookup);
  const key = parent?.[to].keys[0];
  if (!parent || !key || new Set(parent[to].keys).size !== 1) return undefined;
  const type = catalog.columnType?.(to, parent[to].table, key);
  return type && { type, describe: (family) => `the ${family} keys of entity "${parent.name}" (${to} column "${key}")` };
}

function directionTypeErrors(spec: DefaultedSyncFlowSpec, catalog: TableCatalog, from: SideName): ValidationError[] {
  const to = OTHER[from];
  const errors: ValidationError[] = [];
  spec.entities.forEach((entity, i) => {
    entity.fields.forEach((field, k) => {
      const column = field[to];
      const targetType = catalog.columnType?.(to, entity[to].table, column);
      const value = writtenValue(spec, catalog, entity, field, from);
      const mismatch = targetType && value && typeMismatch(targetType, value.type);
      if (!mismatch) return;
      errors.push({
        path: fieldPath('spec', 'entities', i, 'fields', k, to),
        message: `column "${column}" is ${mismatch.target} in the ${to} database and cannot hold ${value.describe(mismatch.source)}`,
      });
    });
  });
  return errors;
}

/** Mappings whose receiving column cannot hold the mapped values; TwoWay flows are checked both ways. */
function typeErrors(spec: DefaultedSyncFlowSpec, catalog: TableCatalog, sides: SideName[]): ValidationError[] {
  if (!sides.includes('source') || !sides.includes('target')) return [];
  const forward = directionTypeErrors(spec, catalog, 'source');
  return spec.direction === 'TwoWay' ? [...forward, ...directionTypeErrors(spec, catalog, 'target')] : forward;
}

/** Tables and columns the flow names that do not exist in the databases, and mapped types that do not fit. */
export function catalogErrors(spec: DefaultedSyncFlowSpec, catalog: TableCatalog): ValidationError[] {
  const sides = checkedSides(spec, catalog);
  return [...missingColumns(spec, catalog, sides), ...typeErrors(spec, catalog, sides)];
}
