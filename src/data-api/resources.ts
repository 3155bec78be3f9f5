import type pg from 'pg';
import { conflictFieldsOf, getPair, listPairs, pairPositionKey, searchPairs, type ConflictFieldRecord, type PairRecord } from '../store/pair-reads.js';
import { getRun, listRuns } from '../store/run-reads.js';
import { getExportFile, listExportFiles } from '../store/export-file-reads.js';
import { changedSourceFiles, getSourceFile, listSourceFiles } from '../store/source-file-reads.js';
import { changedExportFiles, changedPairs, changedRuns, changedUnpaired, type Changes } from '../store/change-reads.js';
import { parsePairName, parseUnpairedSegment, splitFlowId, storedKeysOf } from './names.js';
import { isSensitive, type FlowSensitivity, type SensitivityResolver } from './sensitivity.js';
import { toExportFile, toPair, toRun, toSourceFile, toUnpairedPair, type ExportFile, type ObjectMeta, type Pair, type Run, type SourceFile } from './objects.js';
import { listUnpaired, type UnpairedRecord, type UnpairedSide } from '../store/unpaired-records.js';
import { BadRequest } from './selectors.js';
import { readAsNamespace } from '../store/namespace-scope.js';
import type { StateDb } from '../store/state-connection.js';
import { age, toTable, type Column, type TableOptions } from './table.js';

export interface ListRequest {
  /** Undefined for a list across all namespaces. */
  namespace?: string;
  filters: Record<string, string>;
  limit: number;
  after?: unknown;
  access: PairAccess;
  /** Text to look for (`?search=`), on resources that support it (searchable). */
  search?: string;
}

export interface ChangeRequest {
  namespace?: string;
  filters: Record<string, string>;
  /** A transaction horizon (change-reads.ts): changes at or after it. */
  since: number;
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

export interface ObjectChanges<T> {
  horizon: number;
  changed: T[];
  deleted: T[];
}

export interface Resource<T extends { metadata: ObjectMeta }> {
  plural: string;
  singular: string;
  kind: string;
  shortNames: string[];
  /** Filter name -> field-selector aliases. */
  fields: Record<string, string[]>;
  /** Each filter's value on an object (a watch matches changed objects against the filters). */
  filterValues: (item: T) => Record<string, string>;
  /** Whether lists take `?search=` (a bounded text search, store/bounded-search.ts). */
  searchable?: boolean;
  /** Filters on values that change, so an object can leave (or enter) a watched selection. */
  mutableFilters: string[];
  subresources: string[];
  columns: Column<T>[];
  list(db: StateDb, request: ListRequest): Promise<Page<T>>;
  get(db: StateDb, namespace: string, name: string, access: PairAccess): Promise<T | undefined>;
  /** What changed since a horizon, in the scope of the request's namespace and immutable filters. */
  changes(db: StateDb, request: ChangeRequest): Promise<ObjectChanges<T>>;
}

const flowId = (namespace: string, flow: string) => `${namespace}/${flow}`;

/** In a namespace a flow filter is one flow id; across namespaces it matches the flow's name in each. */
function flowFilter(namespace: string | undefined, flow: string | undefined): { flow?: string; flowName?: string } {
  if (flow === undefined) return {};
  return namespace !== undefined ? { flow: flowId(namespace, flow) } : { flowName: flow };
}

function flowScope(request: { namespace?: string; filters: Record<string, string> }) {
  return { ...(request.namespace !== undefined ? { namespace: request.namespace } : {}), ...flowFilter(request.namespace, request.filters.flow) };
}

/**
 * One page of a keyset-paged list: the continue position (client input, so checked: the named
 * string fields, or a 400) goes to `read`, which returns up to `limit` rows after it; one row more
 * than asked tells whether another page follows, and the last shown row is the next position.
 */
async function keysetPage<R, T, K extends string>(
  request: ListRequest,
  keys: readonly K[],
  read: (after: Record<K, string> | undefined, limit: number) => Promise<R[]>,
  positionOf: (record: R) => Record<K, string>,
  convert: (records: R[]) => Promise<T[]> | T[],
): Promise<Page<T>> {
  const records = await read(position(request.after, keys), request.limit + 1);
  const more = records.length > request.limit;
  const shown = more ? records.slice(0, request.limit) : records;
  const items = await convert(shown);
  return { items, ...(more ? { next: positionOf(shown[shown.length - 1]) } : {}) };
}

function position<K extends string>(value: unknown, keys: readonly K[]): Record<K, string> | undefined {
  if (value === undefined) return undefined;
  const record = value as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || !keys.every((k) => typeof record[k] === 'string')) throw new BadRequest('invalid continue token');
  return Object.fromEntries(keys.map((k) => [k, record[k] as string])) as Record<K, string>;
}

async function convertChanges<R, T>(changes: Changes<R>, convert: (records: R[]) => Promise<T[]> | T[]): Promise<ObjectChanges<T>> {
  return { horizon: changes.horizon, changed: await convert(changes.changed), deleted: await convert(changes.deleted) };
}

async function withConflicts(pool: StateDb, records: Awaited<ReturnType<typeof listPairs>>, access: PairAccess): Promise<Pair[]> {
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

/** One page of a pair search: the hits, and where the next page starts (after the last hit, or after the scanned window). */
async function searchPairPage(pool: StateDb, request: ListRequest, text: string, filters: { entity?: string; category?: string }): Promise<Page<Pair>> {
  const found = await searchPairs(pool, { ...flowScope(request), ...filters, after: position(request.after, ['flow', 'entity', 'sourceKey'] as const), limit: request.limit + 1 }, text);
  const more = found.records.length > request.limit;
  const shown = more ? found.records.slice(0, request.limit) : found.records;
  const last = shown[shown.length - 1];
  const next = more ? { flow: last.flow, entity: last.entity, sourceKey: last.sourceKey } : found.scanEnd;
  return { items: await withConflicts(pool, shown, request.access), ...(next ? { next } : {}) };
}

/** Unpaired records as `new` Pair objects, their suggestions naming the flow's match fields. */
async function unpairedPairs(records: UnpairedRecord[], access: PairAccess): Promise<Pair[]> {
  const flows = new Map<string, FlowSensitivity>();
  for (const r of records) {
    if (!flows.has(r.flow)) flows.set(r.flow, await access.sensitivity(splitFlowId(r.flow).namespace, splitFlowId(r.flow).name));
  }
  return records.map((r) => toUnpairedPair(r, flows.get(r.flow)?.match?.get(r.entity)));
}

/** Category `new` lists the unpaired records (store/unpaired-records.ts), each with its suggested partners. */
function listNew(pool: StateDb, request: ListRequest): Promise<Page<Pair>> {
  const { entity } = request.filters;
  return keysetPage(
    request,
    ['flow', 'entity', 'side', 'key'],
    (after, limit) => listUnpaired(pool, { ...flowScope(request), entity, after: after && { ...after, side: after.side as UnpairedSide }, limit }),
    (r) => ({ flow: r.flow, entity: r.entity, side: r.side, key: r.key }),
    (shown: UnpairedRecord[]) => unpairedPairs(shown, request.access),
  );
}

export const pairs: Resource<Pair> = {
  plural: 'pairs',
  singular: 'pair',
  kind: 'Pair',
  shortNames: [],
  fields: { flow: ['spec.flow'], entity: ['spec.entity'], category: ['status.category'] },
  filterValues: (p) => ({ flow: p.flow, entity: p.entity, category: p.category }),
  mutableFilters: ['category'],
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
  searchable: true,
  async list(pool, request) {
    const { entity, category } = request.filters;
    if (category === 'new') {
      if (request.search !== undefined) throw new BadRequest('search is not supported for category new (unpaired records)');
      return listNew(pool, request);
    }
    if (request.search !== undefined) return searchPairPage(pool, request, request.search, { entity, category });
    return keysetPage(
      request,
      ['flow', 'entity', 'sourceKey'],
      (after, limit) => listPairs(pool, { ...flowScope(request), entity, category, after, limit }),
      (r) => ({ flow: r.flow, entity: r.entity, sourceKey: r.sourceKey }),
      (shown) => withConflicts(pool, shown, request.access),
    );
  },
  async changes(pool, request) {
    const { entity } = request.filters;
    const scope = { ...flowScope(request), ...(entity !== undefined ? { entity } : {}) };
    const paired = await convertChanges(await changedPairs(pool, scope, request.since), (records) => withConflicts(pool, records, request.access));
    // Unpaired records (category new) up to the same horizon: a record that gets paired is DELETED as new, its pair ADDED.
    const unpaired = await convertChanges(await changedUnpaired(pool, scope, request.since, paired.horizon), (records) => unpairedPairs(records, request.access));
    return { horizon: paired.horizon, changed: [...paired.changed, ...unpaired.changed], deleted: [...paired.deleted, ...unpaired.deleted] };
  },
  async get(pool, namespace, name, access) {
    const parsed = parsePairName(name);
    if (!parsed) return undefined;
    const unpaired = parseUnpairedSegment(parsed.segment);
    if (unpaired) {
      const [record] = await listUnpaired(pool, { flow: flowId(namespace, parsed.flowName), entity: parsed.entity, ...unpaired, limit: 1 });
      return record && (await unpairedPairs([record], access))[0];
    }
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
  filterValues: (r) => ({ flow: r.flow, status: r.status }),
  mutableFilters: ['status'],
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
  list(pool, request) {
    const { status } = request.filters;
    return keysetPage(
      request,
      ['startedAt', 'id'],
      (before, limit) => listRuns(pool, { ...flowScope(request), status, before, limit }),
      (r) => ({ startedAt: r.startedKey, id: r.id }),
      (shown) => shown.map(toRun),
    );
  },
  async changes(pool, request) {
    return convertChanges(await changedRuns(pool, flowScope(request), request.since), (records) => records.map(toRun));
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
  filterValues: (f) => ({ flow: f.flow, run: f.runId }),
  mutableFilters: [],
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
  list(pool, request) {
    const { run } = request.filters;
    return keysetPage(
      request,
      ['createdAt', 'id'],
      (before, limit) => listExportFiles(pool, { ...flowScope(request), runId: run, before, limit }),
      (r) => ({ createdAt: r.createdKey, id: r.id }),
      (shown) => shown.map(toExportFile),
    );
  },
  async changes(pool, request) {
    const changes = await changedExportFiles(pool, flowScope(request), request.since);
    return convertChanges(changes, (records) => records.map(toExportFile));
  },
  async get(pool, namespace, name) {
    const record = await getExportFile(pool, name);
    return record && record.flow.startsWith(`${namespace}/`) ? toExportFile(record) : undefined;
  },
};

/**
 * The files a files source recorded (imported, failed with the reason, pending while a run reads
 * them). The data API has no credentials for the source's location, so files no run has read yet
 * are not among them.
 */
export const sourceFiles: Resource<SourceFile> = {
  plural: 'sourcefiles',
  singular: 'sourcefile',
  kind: 'SourceFile',
  shortNames: [],
  fields: { flow: ['spec.flow'], entity: ['spec.entity'], status: ['status.status'] },
  filterValues: (f) => ({ flow: f.flow, entity: f.entity, status: f.status }),
  mutableFilters: ['status'],
  subresources: [],
  columns: [
    { name: 'Name', type: 'string', description: 'file id (its place in the order files apply)', cell: (f) => f.metadata.name },
    { name: 'Flow', type: 'string', description: 'SyncFlow', cell: (f) => f.flow },
    { name: 'Entity', type: 'string', description: 'entity of the flow', cell: (f) => f.entity },
    { name: 'File', type: 'string', description: 'file name', cell: (f) => f.fileName },
    { name: 'Status', type: 'string', description: 'pending, imported or failed', cell: (f) => f.status },
    { name: 'Rows', type: 'string', description: 'records the file held', cell: (f) => (f.rows === undefined ? '' : String(f.rows)) },
    { name: 'Imported', type: 'string', description: 'time of the import', cell: (f, now) => (f.importedAt ? age(f.importedAt, now) : '') },
    { name: 'Reason', type: 'string', description: 'why the file failed', cell: (f) => f.reason ?? '' },
    { name: 'Path', type: 'string', description: 'where the file is now', priority: 1, cell: (f) => f.path },
    { name: 'SHA-256', type: 'string', description: 'checksum', priority: 1, cell: (f) => f.sha256 },
  ],
  list(pool, request) {
    const { entity, status } = request.filters;
    return keysetPage(
      request,
      ['flow', 'id'],
      (after, limit) => listSourceFiles(pool, { ...flowScope(request), entity, status, after, limit }),
      (r) => ({ flow: r.flow, id: r.id }),
      (shown) => shown.map(toSourceFile),
    );
  },
  async changes(pool, request) {
    const { entity } = request.filters;
    return convertChanges(await changedSourceFiles(pool, { ...flowScope(request), ...(entity !== undefined ? { entity } : {}) }, request.since), (records) => records.map(toSourceFile));
  },
  async get(pool, namespace, name) {
    const record = await getSourceFile(pool, name);
    return record && record.flow.startsWith(`${namespace}/`) ? toSourceFile(record) : undefined;
  },
};

/** One object as the server handles it: the object, its filter values and its Table form. */
export interface ServedObject {
  object: { metadata: ObjectMeta };
  filterValues: Record<string, string>;
  table(options: TableOptions): unknown;
}

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
  searchable: boolean;
  mutableFilters: string[];
  subresources: string[];
  list(pool: pg.Pool, request: ListRequest): Promise<{ items: ServedObject[]; next?: unknown; table(options: TableOptions): unknown }>;
  get(pool: pg.Pool, namespace: string, name: string, access: PairAccess): Promise<ServedObject | undefined>;
  changes(pool: pg.Pool, request: ChangeRequest): Promise<ObjectChanges<ServedObject>>;
}

/**
 * A request in a namespace reads as that namespace's database role (store/namespace-scope.ts), so
 * row-level security bounds it whatever the filters say. A request across namespaces was authorized
 * at the cluster scope (every namespace), and reads with the owner credential.
 */
export function inScope<T>(pool: pg.Pool, namespace: string | undefined, read: (db: StateDb) => Promise<T>): Promise<T> {
  return namespace === undefined ? read(pool) : readAsNamespace(pool, namespace, read);
}

function served<T extends { metadata: ObjectMeta }>(resource: Resource<T>): ServedResource {
  const { plural, singular, kind, shortNames, fields, mutableFilters, subresources, columns } = resource;
  const serve = (object: T): ServedObject => ({
    object,
    filterValues: { ...resource.filterValues(object), name: object.metadata.name },
    table: (options) => toTable(columns, [object], options),
  });
  return {
    plural,
    singular,
    kind,
    shortNames,
    // `kubectl get NAME -w` watches with the field selector metadata.name=NAME.
    fields: { ...fields, name: ['metadata.name'] },
    searchable: resource.searchable === true,
    mutableFilters,
    subresources,
    async list(pool, request) {
      const page = await inScope(pool, request.namespace, (db) => (request.filters.name === undefined ? resource.list(db, request) : byName(db, resource, request)));
      return { items: page.items.map(serve), ...(page.next !== undefined ? { next: page.next } : {}), table: (options) => toTable(columns, page.items, options) };
    },
    async get(pool, namespace, name, access) {
      const object = await inScope(pool, namespace, (db) => resource.get(db, namespace, name, access));
      return object && serve(object);
    },
    async changes(pool, request) {
      const changes = await inScope(pool, request.namespace, (db) => resource.changes(db, request));
      return { horizon: changes.horizon, changed: changes.changed.map(serve), deleted: changes.deleted.map(serve) };
    },
  };
}

/** A list selected by name: the object if it exists and matches the other filters. */
async function byName<T extends { metadata: ObjectMeta }>(pool: StateDb, resource: Resource<T>, request: ListRequest): Promise<Page<T>> {
  const { name, ...others } = request.filters;
  if (request.namespace === undefined) throw new BadRequest('metadata.name selects within a namespace');
  if (request.after !== undefined) return { items: [] };
  const object = await resource.get(pool, request.namespace, name, request.access);
  if (!object) return { items: [] };
  const values = resource.filterValues(object);
  return { items: Object.entries(others).every(([k, v]) => values[k] === v) ? [object] : [] };
}

export const RESOURCES: ServedResource[] = [served(pairs), served(runs), served(exportFiles), served(sourceFiles)];
