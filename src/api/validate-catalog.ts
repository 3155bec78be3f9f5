import type { DefaultedSide, DefaultedSyncFlowSpec } from './defaults.js';
import { databaseOf } from './systems.js';
import { fieldPath, type ValidationError } from './validation-error.js';

/** Table metadata of the live databases; undefined means the table does not exist. */
export interface TableCatalog {
  tableColumns(side: 'source' | 'target', table: string): string[] | undefined;
}

type SideName = 'source' | 'target';

function sideColumns(side: DefaultedSide): { path: (string | number)[]; column: string }[] {
  return [
    ...side.keys.map((column, j) => ({ path: ['keys', j], column })),
    ...(side.updatedAt ? [{ path: ['updatedAt'], column: side.updatedAt }] : []),
    ...side.conditions.map((c, k) => ({ path: ['conditions', k, 'field'], column: c.field })),
    ...(side.archive ? [{ path: ['archive', 'column'], column: side.archive.column }] : []),
  ];
}

/** Tables and columns the flow names that do not exist in the databases. */
export function catalogErrors(spec: DefaultedSyncFlowSpec, catalog: TableCatalog): ValidationError[] {
  const errors: ValidationError[] = [];
  const sides: SideName[] = databaseOf(spec.target, 'target') ? ['source', 'target'] : ['source'];
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
