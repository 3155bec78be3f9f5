import { ConfigError, FerryError, EXIT_BAD_INPUT } from '../util/errors.js';
import type { ChildLink, ClosureGraph } from './closure-plan.js';

/** A source row as the closure walk sees it: its key and its lookup column values. */
export interface ClosureRow {
  key: string[];
  refs: Record<string, string | null>;
}

/** One read of a round: rows by key, or the child rows whose link column holds one of some values. */
export type ClosureRequest = { kind: 'keys'; entity: string; keys: string[][] } | { kind: 'children'; link: ChildLink; values: string[] };

/** Reads the rows of one round's requests, ideally in one round trip; results in request order. */
export interface ClosureSource {
  read(requests: ClosureRequest[]): Promise<ClosureRow[][]>;
}

export interface RecordRef {
  entity: string;
  key: string[];
}

export interface Closure {
  /** Source keys (plain key parts) per entity, in the order the walk found them. */
  keys: Map<string, string[][]>;
  /** Referenced rows that do not exist in the source (dangling references), per entity. */
  missing: Map<string, string[][]>;
  /** Reads the walk made, and the rounds (round trips) they were grouped in. */
  queries: number;
  rounds: number;
}

/**
 * How far a row is followed:
 * 0 its required parents only; 1 also its related children; 2 also, through `includeReferenced`,
 * the records its children point to (those come at level 1: one level deep).
 */
type Level = 0 | 1 | 2;

interface Reach {
  level: Level;
  /** Lookup columns of this row whose referenced record is taken at level 1. */
  follow: string[];
}

interface Known extends Reach {
  row: ClosureRow;
}

const SEP = '\u0001';

function merge(into: Reach, more: Reach): boolean {
  let grew = false;
  if (more.level > into.level) {
    into.level = more.level;
    grew = true;
  }
  for (const column of more.follow) {
    if (!into.follow.includes(column)) {
      into.follow = [...into.follow, column];
      grew = true;
    }
  }
  return grew;
}

/**
 * Computes a record's closure: the record; every row it references through lookups, transitively
 * (only those rows); its related child rows, and theirs where the flow says so; and the rows
 * those children reference. Reads run in rounds, one key-set query per entity and round.
 */
export async function computeClosure(graph: ClosureGraph, source: ClosureSource, root: RecordRef): Promise<Closure> {
  const walk = new ClosureWalk(graph, source);
  return walk.run(root);
}

class ClosureWalk {
  private readonly rows = new Map<string, Map<string, Known>>();
  private readonly order = new Map<string, string[][]>();
  private readonly missing = new Map<string, string[][]>();
  /** Ids read and not found, so they are not asked for again. */
  private readonly absent = new Set<string>();
  private pendingRows = new Map<string, Map<string, { key: string[]; reach: Reach }>>();
  private pendingChildren = new Map<ChildLink, Map<string, Reach>>();
  /** Child collections already read: link -> parent value -> (reach applied, child keys). */
  private readonly fetchedChildren = new Map<ChildLink, Map<string, { reach: Reach; keys: string[] }>>();
  private queries = 0;
  private rounds = 0;

  constructor(
    private readonly graph: ClosureGraph,
    private readonly source: ClosureSource,
  ) {}

  async run(root: RecordRef): Promise<Closure> {
    if (!this.graph.has(root.entity)) throw new ConfigError(`unknown entity "${root.entity}"`);
    this.requestRow(root.entity, root.key, { level: 2, follow: [] });
    while (this.pendingRows.size > 0 || this.pendingChildren.size > 0) {
      const rowRequests = [...this.pendingRows];
      const childRequests = [...this.pendingChildren];
      this.pendingRows = new Map();
      this.pendingChildren = new Map();
      const results = await this.source.read([
        ...rowRequests.map(([entity, wanted]): ClosureRequest => ({ kind: 'keys', entity, keys: [...wanted.values()].map((w) => w.key) })),
        ...childRequests.map(([link, wanted]): ClosureRequest => ({ kind: 'children', link, values: [...wanted.keys()] })),
      ]);
      this.queries += results.length;
      this.rounds++;
      for (const [index, [entity, wanted]] of rowRequests.entries()) {
        const found = results[index];
        const seen = new Set<string>();
        for (const row of found) {
          const id = row.key.join(SEP);
          const request = wanted.get(id);
          if (!request) continue;
          seen.add(id);
          this.absorb(entity, row, request.reach);
        }
        for (const [id, request] of wanted) {
          if (seen.has(id)) continue;
          if (entity === root.entity && id === root.key.join(SEP) && !this.rows.get(entity)?.has(id)) {
            throw new RecordNotFoundError(root);
          }
          this.absent.add(`${entity}${SEP}${id}`);
          this.list(this.missing, entity).push(request.key);
        }
      }
      for (const [index, [link, wanted]] of childRequests.entries()) {
        const found = results[rowRequests.length + index];
        const collections = this.collectionsOf(link);
        for (const [value, reach] of wanted) collections.set(value, { reach: { ...reach, follow: [...reach.follow] }, keys: [] });
        for (const row of found) {
          const value = row.refs[link.column];
          if (value === null || value === undefined) continue;
          const collection = collections.get(value);
          if (!collection) continue;
          collection.keys.push(row.key.join(SEP));
          this.absorb(link.child, row, collection.reach);
        }
      }
    }
    return { keys: this.order, missing: this.missing, queries: this.queries, rounds: this.rounds };
  }

  private list<T>(map: Map<string, T[]>, entity: string): T[] {
    let list = map.get(entity);
    if (!list) map.set(entity, (list = []));
    return list;
  }

  private collectionsOf(link: ChildLink) {
    let collections = this.fetchedChildren.get(link);
    if (!collections) this.fetchedChildren.set(link, (collections = new Map()));
    return collections;
  }

  private requestRow(entity: string, key: string[], reach: Reach): void {
    const id = key.join(SEP);
    const known = this.rows.get(entity)?.get(id);
    if (known) {
      if (merge(known, reach)) this.expand(entity, known);
      return;
    }
    if (this.absent.has(`${entity}${SEP}${id}`)) return;
    let wanted = this.pendingRows.get(entity);
    if (!wanted) this.pendingRows.set(entity, (wanted = new Map()));
    const pending = wanted.get(id);
    if (pending) merge(pending.reach, reach);
    else wanted.set(id, { key, reach: { level: reach.level, follow: [...reach.follow] } });
  }

  private requestChildren(link: ChildLink, value: string, reach: Reach): void {
    const done = this.fetchedChildren.get(link)?.get(value);
    if (done) {
      if (!merge(done.reach, reach)) return;
      for (const id of done.keys) {
        const known = this.rows.get(link.child)!.get(id)!;
        if (merge(known, done.reach)) this.expand(link.child, known);
      }
      return;
    }
    let wanted = this.pendingChildren.get(link);
    if (!wanted) this.pendingChildren.set(link, (wanted = new Map()));
    const pending = wanted.get(value);
    if (pending) merge(pending, reach);
    else wanted.set(value, { level: reach.level, follow: [...reach.follow] });
  }

  private absorb(entity: string, row: ClosureRow, reach: Reach): void {
    let byId = this.rows.get(entity);
    if (!byId) this.rows.set(entity, (byId = new Map()));
    const id = row.key.join(SEP);
    const known = byId.get(id);
    if (known) {
      if (merge(known, reach)) this.expand(entity, known);
      return;
    }
    const fresh: Known = { row, level: reach.level, follow: [...reach.follow] };
    byId.set(id, fresh);
    this.list(this.order, entity).push(row.key);
    this.expand(entity, fresh);
  }

  private expand(entity: string, known: Known): void {
    const node = this.graph.get(entity)!;
    for (const reference of node.references) {
      const value = known.row.refs[reference.column];
      if (value === null || value === undefined) continue;
      this.requestRow(reference.parent, [value], { level: known.follow.includes(reference.column) ? 1 : 0, follow: [] });
    }
    if (known.level === 0) return;
    for (const link of node.children) {
      this.requestChildren(link, known.row.key[0], {
        level: link.includeRelated ? known.level : 0,
        follow: known.level === 2 ? link.includeReferenced : [],
      });
    }
  }
}

/** The record a Record run was asked for does not exist in the source. */
export class RecordNotFoundError extends FerryError {
  constructor(readonly record: RecordRef) {
    super(`record ${record.entity}/${record.key.join(',')} not found in the source: nothing was synced`, EXIT_BAD_INPUT);
    this.name = 'RecordNotFoundError';
  }
}
