interface DependentEntity {
  name: string;
  requires?: string[];
  fields: { lookup?: string }[];
}

/** Entities that must be synced before this one: `requires` plus every lookup. */
export function entityDependencies(entity: DependentEntity): string[] {
  const lookups = entity.fields.flatMap((f) => (f.lookup ? [f.lookup] : []));
  return [...new Set([...(entity.requires ?? []), ...lookups])];
}

/**
 * One cycle per strongly connected group of entities, written from the earliest-listed member back
 * to itself (e.g. ['people', 'firms', 'people']). A lookup of the entity's own key (a parent firm)
 * is not a cycle: the engine orders rows within the entity.
 */
export function findDependencyCycles(entities: readonly DependentEntity[]): string[][] {
  const order = new Map(entities.map((e, i) => [e.name, i]));
  const edges = new Map(entities.map((e) => [e.name, entityDependencies(e).filter((d) => order.has(d) && d !== e.name)]));

  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (name: string) => {
    index.set(name, index.size);
    low.set(name, index.get(name)!);
    stack.push(name);
    onStack.add(name);
    for (const next of edges.get(name)!) {
      if (!index.has(next)) {
        visit(next);
        low.set(name, Math.min(low.get(name)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(name, Math.min(low.get(name)!, index.get(next)!));
      }
    }
    if (low.get(name) === index.get(name)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== name);
      components.push(component);
    }
  };
  for (const entity of entities) if (!index.has(entity.name)) visit(entity.name);

  const cycles: string[][] = [];
  for (const component of components) {
    if (component.length === 1) continue;
    const start = component.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
    cycles.push(shortestCycle(start, new Set(component), edges));
  }
  return cycles.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
}

function shortestCycle(start: string, members: Set<string>, edges: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of edges.get(node)!) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}
