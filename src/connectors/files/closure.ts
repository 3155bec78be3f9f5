import { referenceColumns, type ClosureGraph } from '../../engine/closure-plan.js';
import type { ClosureRequest, ClosureRow, ClosureSource } from '../../engine/closure.js';
import { rowProblem } from '../../engine/connector.js';
import type { EntityPlan, FieldPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import { FilesReader } from './reader.js';
import type { FileEntity } from './session.js';

/**
 * Reads Record-mode closures from partner files: a record is its line in the entity's newest
 * snapshot file (pending or already imported), children are the lines whose link column holds a
 * parent key. Nothing is recorded as imported: the next Full or Incremental run reads the files as
 * usual. Delta files hold changes, not records, so a closure that reaches one is refused.
 */
export class FilesClosureSource implements ClosureSource {
  constructor(
    private readonly plans: Map<string, EntityPlan>,
    private readonly graph: ClosureGraph,
    private readonly entityOf: (table: string) => FileEntity,
  ) {}

  /** A reader whose values are the entity's lookup columns (and the link column it is asked by), as the closure walk follows them. */
  private reader(entity: string, link?: string): { reader: FilesReader; columns: string[]; width: number } {
    const plan = this.plans.get(entity);
    if (!plan) throw new ConfigError(`unknown entity "${entity}"`);
    const files = this.entityOf(plan.source.table);
    if (files.file.contents === 'Delta') {
      throw new ConfigError(
        `entity ${entity}: a Record run reads one record from the newest snapshot file, but its files are Delta files (changes, not records); run Incremental to apply them`,
      );
    }
    const columns = [...new Set([...referenceColumns(this.graph, entity), ...(link ? [link] : [])])];
    const fields = columns.map((column, mapping): FieldPlan => ({ source: column, target: column, transform: 'None', targetType: 'text', mapping }));
    const reader = new FilesReader({ ...plan, keyFields: [], fields, match: [] }, files.file, files.dialect, files.files);
    return { reader, columns, width: plan.source.keys.length };
  }

  private async readOne(request: ClosureRequest): Promise<ClosureRow[]> {
    const entity = request.kind === 'keys' ? request.entity : request.link.child;
    const { reader, columns, width } = this.reader(entity, request.kind === 'children' ? request.link.column : undefined);
    const refs = referenceColumns(this.graph, entity);
    const wanted = new Set(request.kind === 'keys' ? request.keys.map((k) => k.join('\u0001')) : request.values);
    const link = request.kind === 'children' ? width + 3 + columns.indexOf(request.link.column) : -1;
    const seen = new Set<string>();
    const out: ClosureRow[] = [];
    for await (const row of reader.scanQuietly()) {
      if (rowProblem(row)) continue;
      const key = row.slice(0, width) as string[];
      const id = key.join('\u0001');
      const matches = request.kind === 'keys' ? wanted.has(id) : row[link] !== null && wanted.has(row[link]!);
      // A snapshot's first line of a key is the record (the scans reject the others).
      if (!matches || seen.has(id)) continue;
      seen.add(id);
      out.push({ key, refs: Object.fromEntries(refs.map((column) => [column, row[width + 3 + columns.indexOf(column)] ?? null])) });
    }
    return out;
  }

  async read(requests: ClosureRequest[]): Promise<ClosureRow[][]> {
    const out: ClosureRow[][] = [];
    for (const request of requests) out.push(await this.readOne(request));
    return out;
  }
}
