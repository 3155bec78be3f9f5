import type { DefaultedSyncFlowSpec } from '../api/defaults.js';
import { relationColumn } from '../api/related.js';
import { ConfigError } from '../util/errors.js';

/** A lookup column of an entity: its value is a source key of `parent`. */
export interface ReferenceColumn {
  column: string;
  parent: string;
}

/** A `related` child collection: rows of `child` whose `column` holds the parent record's key. */
export interface ChildLink {
  parent: string;
  child: string;
  column: string;
  includeRelated: boolean;
  /** Lookup columns of the child whose referenced records come with their own related items. */
  includeReferenced: string[];
}

export interface ClosureNode {
  name: string;
  references: ReferenceColumn[];
  children: ChildLink[];
}

/** What a Record sync may pull in, per entity: the rows it references and the rows that hang off it. */
export type ClosureGraph = Map<string, ClosureNode>;

/** Builds the closure graph from the flow spec (required parents from lookups, children from `related`). */
export function closureGraph(spec: DefaultedSyncFlowSpec): ClosureGraph {
  const entities = spec.entities;
  const byName = new Map(entities.map((e) => [e.name, e]));
  const graph: ClosureGraph = new Map();
  for (const entity of entities) {
    const seen = new Set<string>();
    const references: ReferenceColumn[] = [];
    for (const field of entity.fields) {
      if (!field.lookup || seen.has(field.source)) continue;
      seen.add(field.source);
      references.push({ column: field.source, parent: field.lookup });
    }
    const children = entity.related.map((related): ChildLink => {
      const child = byName.get(related.entity);
      if (!child) throw new ConfigError(`entity ${entity.name}: related entity "${related.entity}" does not exist`);
      const link = relationColumn(entity.name, child, related);
      if ('problem' in link) throw new ConfigError(`entity ${entity.name}: related ${related.entity}: ${link.problem}`);
      return {
        parent: entity.name,
        child: child.name,
        column: link.column,
        includeRelated: related.includeRelated,
        includeReferenced: related.includeReferenced ?? [],
      };
    });
    graph.set(entity.name, { name: entity.name, references, children });
  }
  return graph;
}

/** Source columns a closure walk reads for an entity besides its keys: every lookup column. */
export function referenceColumns(graph: ClosureGraph, entity: string): string[] {
  return graph.get(entity)?.references.map((r) => r.column) ?? [];
}

/**
 * The entities a named scope syncs: its listed entities and, with `includeRelated`, their related
 * child entities transitively (a child listed with `includeRelated: false` comes without its own
 * children). Excluded entities are left out and not traversed. Required parents are NOT added:
 * rows they reference must already be synced.
 */
export function scopeEntities(spec: DefaultedSyncFlowSpec, scopeName: string): Set<string> {
  const scope = spec.scopes.find((s) => s.name === scopeName);
  if (!scope) {
    const known = spec.scopes.map((s) => s.name);
    throw new ConfigError(`unknown scope "${scopeName}" (the flow defines: ${known.length > 0 ? known.join(', ') : 'no scopes'})`);
  }
  const graph = closureGraph(spec);
  const excluded = new Set(scope.exclude);
  const members = new Set<string>();
  const expanded = new Set<string>();
  const visit = (name: string, withRelated: boolean) => {
    if (excluded.has(name)) return;
    members.add(name);
    if (!withRelated || expanded.has(name)) return;
    expanded.add(name);
    for (const link of graph.get(name)?.children ?? []) visit(link.child, link.includeRelated);
  };
  for (const name of scope.entities) {
    if (!graph.has(name)) throw new ConfigError(`scope "${scopeName}": unknown entity "${name}"`);
    visit(name, scope.includeRelated);
  }
  return members;
}
