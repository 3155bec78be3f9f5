import type { ConflictFieldWrite } from './conflict-fields.js';
import type { StateDb } from './state-connection.js';
import { boundedSearch, SEARCH_SCAN_ROWS } from './bounded-search.js';
import { Where } from './where.js';

/** A pair as the data API lists it: keys still encoded (engine/keys.ts), conflicts attached separately. */
export interface PairRecord {
  flow: string;
  entity: string;
  sourceKey: string;
  targetKey: string;
  category: string;
  lastOrigin: string;
  lastSyncedAt: Date;
  sourceGoneAt: Date | null;
  targetGoneAt: Date | null;
}

/** A recorded conflicting field: what the two-way run wrote (conflict-fields.ts), and when and by which run. */
export interface ConflictFieldRecord extends Omit<ConflictFieldWrite, 'position'> {
  sensitive: boolean;
  runId: string;
  detectedAt: Date;
}

export interface PairPosition {
  flow: string;
  entity: string;
  sourceKey: string;
}

export interface PairQuery {
  /** `namespace/` prefix of flow ids; absent lists every namespace. */
  namespace?: string;
  flow?: string;
  /** A flow's name in any namespace (lists across namespaces). */
  flowName?: string;
  entity?: string;
  category?: string;
  /** Keyset paging: rows strictly after this pair, in (flow, entity, source_key) order. */
  after?: PairPosition;
  limit: number;
}

export function pairFromRow(r: Record<string, unknown>): PairRecord {
  return {
    flow: r.flow as string,
    entity: r.entity as string,
    sourceKey: r.source_key as string,
    targetKey: r.target_key as string,
    category: r.category as string,
    lastOrigin: r.last_origin as string,
    lastSyncedAt: r.last_synced_at as Date,
    sourceGoneAt: (r.source_gone_at as Date | null) ?? null,
    targetGoneAt: (r.target_gone_at as Date | null) ?? null,
  };
}

/**
 * The columns `pairFromRow` reads. A pair's flow and entity are its scope's (ferry.pair_scopes, not
 * on the row): `flow` and `entity` are the expressions for them, a joined scope's columns or the
 * bound values of a scope already known; `alias` qualifies the pair's own columns.
 */
export function pairColumns(flow: string, entity: string, alias?: string): string {
  const own = ['source_key', 'target_key', 'category', 'last_origin', 'last_synced_at', 'source_gone_at', 'target_gone_at'];
  return [`${flow} AS flow`, `${entity} AS entity`, ...own.map((c) => (alias ? `${alias}.${c}` : c))].join(', ');
}

/** The columns of the pairs of one known scope: its flow and entity as bound values. */
function scopePairColumns(where: Where, scope: { flow: string; entity: string }): string {
  return pairColumns(`${where.param(scope.flow)}::text`, `${where.param(scope.entity)}::text`);
}

/**
 * One page of pairs in (flow, entity, source_key) order. Paging is by key (not OFFSET), so every page
 * costs the same whatever its depth, and a pair added while a client pages is neither skipped nor
 * repeated. The pairs are indexed by scope (one per flow entity, pair-scopes.ts) and source key: the
 * page is read scope by scope, in the scopes' (flow, entity) order, each through the primary key.
 */
export async function listPairs(db: StateDb, query: PairQuery): Promise<PairRecord[]> {
  const records: PairRecord[] = [];
  for (const scope of await scopesListed(db, query)) {
    const where = scopeWhere(scope, query);
    const result = await db.query(
      `SELECT ${scopePairColumns(where, scope)} FROM ferry.pairs ${where} ORDER BY source_key LIMIT ${where.param(query.limit - records.length)}`,
      where.params,
    );
    records.push(...result.rows.map(pairFromRow));
    if (records.length >= query.limit) break;
  }
  return records;
}

/**
 * Pairs whose source or target key contains `text` (stored form: integers are zero-padded), at most
 * `limit`, from a bounded window of the list (bounded-search.ts); `scanEnd` is where to go on when
 * the window ended before `limit` hits. Values are not searched: some are masked for the reader.
 */
export async function searchPairs(db: StateDb, query: PairQuery, text: string): Promise<{ records: PairRecord[]; scanEnd?: PairPosition }> {
  const records: PairRecord[] = [];
  // One window of rows across the scopes, as one search over the whole list would read.
  let window = SEARCH_SCAN_ROWS;
  for (const scope of await scopesListed(db, query)) {
    const where = scopeWhere(scope, query);
    const found = await boundedSearch(db, {
      select: `SELECT ${scopePairColumns(where, scope)} FROM ferry.pairs ${where}`,
      params: where.params,
      order: 'source_key',
      orderDescending: 'source_key DESC',
      searched: ['source_key', 'target_key'],
      text,
      limit: query.limit - records.length,
      scan: window,
    });
    records.push(...found.hits.map(pairFromRow));
    const end = found.scanEnd;
    if (end) return { records, scanEnd: { flow: scope.flow, entity: scope.entity, sourceKey: end.source_key as string } };
    window -= found.scanned;
    if (records.length >= query.limit) break;
  }
  return { records };
}

interface ListedScope {
  id: number;
  flow: string;
  entity: string;
}

/** The scopes of the flow entities a list covers, from the one of its position on, in (flow, entity) order. */
async function scopesListed(db: StateDb, query: PairQuery): Promise<ListedScope[]> {
  const where = new Where();
  where.flows(query);
  if (query.entity !== undefined) where.add(`entity = ${where.param(query.entity)}`);
  const after = query.after;
  if (after) where.add(`(flow, entity) >= (${where.param(after.flow)}, ${where.param(after.entity)})`);
  const result = await db.query<ListedScope>(`SELECT id, flow, entity FROM ferry.pair_scopes ${where} ORDER BY flow, entity`, where.params);
  return result.rows;
}

/** The pairs of one scope a list covers: its category, and past the list's position. */
function scopeWhere(scope: ListedScope, query: PairQuery): Where {
  const where = new Where();
  where.add(`scope = ${where.param(scope.id)}`);
  if (query.category !== undefined) where.add(`category = ${where.param(query.category)}`);
  const after = query.after;
  if (after && after.flow === scope.flow && after.entity === scope.entity) where.add(`source_key > ${where.param(after.sourceKey)}`);
  return where;
}

export async function getPair(db: StateDb, key: PairPosition): Promise<PairRecord | undefined> {
  const result = await db.query(
    `SELECT ${pairColumns('$1::text', '$2::text')} FROM ferry.pairs
      WHERE scope = (SELECT id FROM ferry.pair_scopes WHERE flow = $1 AND entity = $2) AND source_key = $3`,
    [key.flow, key.entity, key.sourceKey],
  );
  return result.rows[0] ? pairFromRow(result.rows[0]) : undefined;
}

/** The recorded conflicting fields of these pairs, keyed `flow \u0000 entity \u0000 sourceKey`. */
export async function conflictFieldsOf(db: StateDb, pairs: PairPosition[]): Promise<Map<string, ConflictFieldRecord[]>> {
  const out = new Map<string, ConflictFieldRecord[]>();
  if (pairs.length === 0) return out;
  const result = await db.query(
    `SELECT flow, entity, source_key, field, target_field, source_value, target_value, source_changed_at, target_changed_at, sensitive, run_id, detected_at
       FROM ferry.pair_conflict_fields
      WHERE (flow, entity, source_key) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
      ORDER BY flow, entity, source_key, position`,
    [pairs.map((p) => p.flow), pairs.map((p) => p.entity), pairs.map((p) => p.sourceKey)],
  );
  for (const r of result.rows) {
    const key = pairPositionKey({ flow: r.flow, entity: r.entity, sourceKey: r.source_key });
    const list = out.get(key) ?? [];
    list.push({
      field: r.field,
      targetField: r.target_field,
      sourceValue: r.source_value,
      targetValue: r.target_value,
      sourceChangedAt: r.source_changed_at,
      targetChangedAt: r.target_changed_at,
      sensitive: r.sensitive,
      runId: r.run_id,
      detectedAt: r.detected_at,
    });
    out.set(key, list);
  }
  return out;
}

export function pairPositionKey(p: PairPosition): string {
  return `${p.flow}\u0000${p.entity}\u0000${p.sourceKey}`;
}
