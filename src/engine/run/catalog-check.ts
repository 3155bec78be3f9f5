import { databaseOf } from '../../api/systems.js';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import { ConfigError } from '../../util/errors.js';
import type { Session, TableInfo } from '../connector.js';

export type Catalog = (side: 'source' | 'target', table: string) => TableInfo | undefined;

/** Both systems' catalogs of the flow's tables, read side by side. */
export async function readCatalog(spec: SyncFlowSpec, source: Session, target: Session): Promise<Catalog> {
  const [sourceTables, targetTables] = await Promise.all([
    source.readCatalog(databaseOf(spec.source, 'source')?.namespace ?? '', spec.entities.map((e) => e.source.table)),
    target.readCatalog(databaseOf(spec.target, 'target')?.namespace ?? '', spec.entities.map((e) => e.target.table)),
  ]);
  const tables: Record<'source' | 'target', Map<string, TableInfo>> = { source: sourceTables, target: targetTables };
  return (side, table) => tables[side].get(table);
}

/** A dry run must roll back everything it wrote: refuse when a table it writes cannot. */
export function refuseDryRunWithout(catalog: Catalog, spec: SyncFlowSpec): void {
  const sides: ('source' | 'target')[] = spec.direction === 'TwoWay' ? ['source', 'target'] : ['target'];
  for (const side of sides) {
    for (const entity of spec.entities) {
      const info = catalog(side, entity[side].table);
      const limits = info?.limitations ?? [];
      if (limits.length > 0) {
        throw new ConfigError(`dry run refused: ${side} table "${entity[side].table}" of entity ${entity.name} cannot roll back (${limits.join('; ')}), so a dry run would write to it`);
      }
    }
  }
}
