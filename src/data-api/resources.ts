import type pg from 'pg';
import { conflictFieldsOf, getPair, listPairs, pairPositionKey, type ConflictFieldRecord, type PairRecord } from '../store/pair-reads.js';
import { getRun, listRuns } from '../store/run-reads.js';
import { getExportFile, listExportFiles } from '../store/export-file-reads.js';
import { parsePairName, splitFlowId, storedKeysOf } from './names.js';
import { isSensitive, type FlowSensitivity, type SensitivityResolver } from './sensitivity.js';
import { toExportFile, toPair, toRun, type ExportFile, type ObjectMeta, type Pair, type Run } from './objects.js';
import { BadRequest } from './selectors.js';
import { age, toTable, type Column, type TableOptions } from './table.js';

export interface ListRequest {
  /** Undefined for a list across all namespaces. */
  namespace?: string;
  filters: Record<string, string>;
  limit: number;
  after?: unknown;
  access: PairAccess;
}

export interface PairAccess {
  /** Whether the user may see sensitive values (get pairs/unmasked); asked only when needed. */
  unmasked: () => Promise<boolean>;
  sensitivity: SensitivityResolver;
}

export interface Page<T> {
  items: T[];
  /** The position after the last item when there may be more. */
  next?: unknown;
}

export interface Resource<T extends { metadata: ObjectMeta }> {
  plural: string;
  singular: string;
  kind: string;
  shortNames: string[];
  /** Filter name -> field-selector aliases. */
  fields: Record<string, string[]>;
  subresources: string[];
  columns: Column<T>[];
  list(pool: pg.Pool, request: ListRequest): Promise<Page<T>>;
  get(pool: pg.Pool, namespace: string, name: string, access: PairAccess): Promise<T | undefined>;
}

const flowId = (namespace: string, flow: string) => `${namespace}/${flow}`;

/** A paging position from a continue token (client input): the named string fields, or a 400. */
function position<K extends string>(value: unknown, keys: readonly K[]): Record<K, string> | undefined {
  if (value === undefined) return undefined;
  const record = value as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || !keys.every((k) => typeof record[k] === 'string')) throw new BadRequest('invalid continue token');
  return Object.fromEntries(keys.map((k) => [k, record[k] as string])) as Record<K, string>;
}

/** In a namespace a flow filter is one flow id; across namespaces it matches the flow's name in each. */
function flowFilter(namespace: string | undefined, flow: string | undefined): { flow?: string; flowName?: string } {
  if (flow === undefined) return {};
  return namespace !== undefined ? { flow: flowId(namespace, flow) } : { flowName: flow };
}

/** A page one longer than asked tells whether another page follows. */
function page<R, T>(records: R[], limit: number, convert: (r: R[]) => Promise<T[]> | T[], position: (r: R) => unknown): Promise<Page<T>> {
  const more = records.length > limit;
  const shown = more ? records.slice(0, limit) : records;
  return Promise.resolve(convert(shown)).then((items) => ({ items, ...(more ? { next: position(shown[shown.length - 1]) } : {}) }));
}

async function withConflicts(pool: pg.Pool, records: Awaited<ReturnType<typeof listPairs>>, access: PairAccess): Promise<Pair[]> {
  const conflicted = records.filter((r) => r.category === 'conflict');
  const fields = await conflictFieldsOf(pool, conflicted);
  const flows = new Map<string, FlowSensitivity>();
  for (const r of conflicted) {
    if (flows.has(r.flow)) continue;
    const { namespace, name } = splitFlowId(r.flow);
    flows.set(r.flow, await access.sensitivity(namespace, name));
  }
  const sensitive = (r: PairRecord, f: ConflictFieldRecord) => f.sensitive || isSensitive(flows.get(r.flow)!, r.entity, f.field, f.targetField);
  const anySensitive = conflicted.some((r) => (fields.get(pairPositionKey(r)) ?? []).some((f) => sensitive(r, f)));
  const mayUnmask = anySensitive ? await access.unmasked() : false;
  return records.map((r) => toPair(r, fields.get(pairPositionKey(r)), (f) => !mayUnmask && sensitive(r, f)));
}

export const pairs: Resource<Pair> = {
  plural: 'pairs',
  singular: 'pair',
  kind: 'Pair',
  shortNames: [],
  fields: { flow: ['spec.flow'], entity: ['spec.entity'], category: ['status.category'] },
  subresources: ['unmasked'],
  columns: [
    { name: 'Name', type: 'string', description: 'flow.entity.source-key', cell: (p) => p.metadata.name },
    { name: 'Flow', type: 'string', description: 'SyncFlow', cell: (p) => p.flow },
    { name: 'Entity', type: 'string', description: 'entity of the flow', cell: (p) => p.entity },
    { name: 'Source Key', type: 'string', description: 'key in the source system', cell: (p) => p.sourceKey },
    { name: 'Target Key', type: 'string', description: 'key in the target system', cell: (p) => p.targetKey },
    { name: 'Category', type: 'string', description: 'conflict, new, deleted, deactivated, synchronised or inactive', cell: (p) => p.category },
    {
      name: 'Conflicts',
      type: 'string',
      description: 'differing fields: source value | target value',
      cell: (p) => p.conflict?.fields.map((f) => `${f.field}: ${f.sourceValue ?? 'null'} | ${f.targetValue ?? 'null'}`).join('; ') ?? '',
    },
    { name: 'Last Synced', type: 'string', description: 'time of the last sync of the pair', cell: (p, now) => age(p.lastSyncedAt, now) },
  ],
  async list(pool, request) {
    const { flow, entity, category } = request.filters;
    const records = await listPairs(pool, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...flowFilter(request.namespace, flow),
      entity,
      category,
      after: position(request.after, ['flow', 'entity', 'sourceKey']),
      limit: request.limit + 1,
    });
    return page(records, request.limit, (shown) => withConflicts(pool, shown, request.access), (r) => ({ flow: r.flow, entity: r.entity, sourceKey: r.sourceKey }));
  },
  async get(pool, namespace, name, access) {
    const parsed = parsePairName(name);
    if (!parsed) return undefined;
    for (const sourceKey of storedKeysOf(parsed.segment)) {
      const record = await getPair(pool, { flow: flowId(namespace, parsed.flowName), entity: parsed.entity, sourceKey });
      if (record) return (await withConflicts(pool, [record], access))[0];
    }
    return undefined;
  },
};

export const runs: Resource<Run> = {
  plural: 'runs',
  singular: 'run',
  kind: 'Run',
  shortNames: [],
  fields: { flow: ['spec.flow'], status: ['status.phase'] },
  subresources: ['report'],
  columns: [
    { name: 'Name', type: 'string', description: 'run id', cell: (r) => r.metadata.name },
    { name: 'Flow', type: 'string', description: 'SyncFlow', cell: (r) => r.flow },
    { name: 'Mode', type: 'string', description: 'Full, Incremental, Scope, Record, Resolve, Retransfer', cell: (r) => (r.dryRun ? `${r.mode} (dry run)` : r.mode) },
    { name: 'Status', type: 'string', description: 'Running, Succeeded, Failed', cell: (r) => r.status },
    { name: 'Read', type: 'integer', description: 'rows read', cell: (r) => r.counters?.read ?? 0 },
    { name: 'Written', type: 'integer', description: 'rows created, updated, archived or deleted', cell: (r) => (r.counters ? r.counters.created + r.counters.updated + r.counters.archived + r.counters.deleted : 0) },
    { name: 'Rejected', type: 'integer', description: 'rows rejected', cell: (r) => r.counters?.rejected ?? 0 },
    { name: 'Duration', type: 'string', description: 'run time', cell: (r) => (r.durationSeconds === undefined ? '' : `${r.durationSeconds.toFixed(1)}s`) },
    { name: 'Started', type: 'string', description: 'start time', cell: (r, now) => age(r.startedAt, now) },
    { name: 'Requested By', type: 'string', description: 'requester', priority: 1, cell: (r) => r.requestedBy ?? '' },
  ],
  async list(pool, request) {
    const { flow, status } = request.filters;
    const records = await listRuns(pool, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...flowFilter(request.namespace, flow),
      status,
      before: position(request.after, ['startedAt', 'id']),
      limit: request.limit + 1,
    });
    return page(records, request.limit, (shown) => shown.map(toRun), (r) => ({ startedAt: r.startedKey, id: r.id }));
  },
  async get(pool, namespace, name) {
    const record = await getRun(pool, name);
    return record && record.flow.startsWith(`${namespace}/`) ? toRun(record) : undefined;
  },
};

export const exportFiles: Resource<ExportFile> = {
  plural: 'exportfiles',
  singular: 'exportfile',
  kind: 'ExportFile',
  shortNames: [],
  fields: { flow: ['spec.flow'], run: ['spec.runId'] },
  subresources: ['download'],
  columns: [
    { name: 'Name', type: 'string', description: 'file id', cell: (f) => f.metadata.name },
    { name: 'Flow', type: 'string', description: 'SyncFlow', cell: (f) => f.flow },
    { name: 'File', type: 'string', description: 'file name', cell: (f) => f.fileName },
    { name: 'Rows', type: 'integer', description: 'rows in the file', cell: (f) => f.rows },
    { name: 'Bytes', type: 'integer', description: 'file size', cell: (f) => f.bytes },
    { name: 'Transfers', type: 'string', description: 'per destination', cell: (f) => f.transfers.map((t) => `${t.target}: ${t.status}`).join(', ') || '-' },
    { name: 'Created', type: 'string', description: 'creation time', cell: (f, now) => age(f.createdAt, now) },
    { name: 'SHA-256', type: 'string', description: 'checksum', priority: 1, cell: (f) => f.sha256 },
    { name: 'Run', type: 'string', description: 'run id', priority: 1, cell: (f) => f.runId },
  ],
  async list(pool, request) {
    const { flow, run } = request.filters;
    const records = await listExportFiles(pool, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...flowFilter(request.namespace, flow),
      runId: run,
      before: position(request.after, ['createdAt', 'id']),
      limit: request.limit + 1,
    });
    return page(records, request.limit, (shown) => shown.map(toExportFile), (r) => ({ createdAt: r.createdKey, id: r.id }));
  },
  async get(pool, namespace, name) {
    const record = await getExportFile(pool, name);
    return record && record.flow.startsWith(`${namespace}/`) ? toExportFile(record) : undefined;
  },
};

/**
 * A resource as the server handles it, whatever its object type: the typed columns stay inside,
 * so the server needs no cast to print any of them as a Table.
 */
export interface ServedResource {
  plural: string;
  singular: string;
  kind: string;
  shortNames: string[];
  fields: Record<string, string[]>;
  subresources: string[];
  list(pool: pg.Pool, request: ListRequest): Promise<{ items: { metadata: ObjectMeta }[]; next?: unknown; table(options: TableOptions): unknown }>;
  get(pool: pg.Pool, namespace: string, name: string, access: PairAccess): Promise<{ object: { metadata: ObjectMeta }; table(options: TableOptions): unknown } | undefined>;
}

function served<T extends { metadata: ObjectMeta }>(resource: Resource<T>): ServedResource {
  const { plural, singular, kind, shortNames, fields, subresources, columns } = resource;
  return {
    plural,
    singular,
    kind,
    shortNames,
    fields,
    subresources,
    async list(pool, request) {
      const page = await resource.list(pool, request);
      return { ...page, table: (options) => toTable(columns, page.items, options) };
    },
    async get(pool, namespace, name, access) {
      const object = await resource.get(pool, namespace, name, access);
      return object && { object, table: (options) => toTable(columns, [object], options) };
    },
  };
}

export const RESOURCES: ServedResource[] = [served(pairs), served(runs), served(exportFiles)];
