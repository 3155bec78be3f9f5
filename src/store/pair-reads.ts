import type { ConflictFieldWrite } from './conflict-fields.js';
import type { StateDb } from './state-connection.js';
import { boundedSearch } from './bounded-search.js';
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

export const PAIR_COLUMNS = 'flow, entity, source_key, target_key, category, last_origin, last_synced_at, source_gone_at, target_gone_at';

/**
 * One page of pairs in primary-key order. Paging is by key (not OFFSET), so every page costs the
 * same whatever its depth, and a pair added while a client pages is neither skipped nor repeated.
 */
export async function listPairs(db: StateDb, query: PairQuery): Promise<PairRecord[]> {
  const where = pairWhere(query);
  const result = await db.query(
    `SELECT ${PAIR_COLUMNS} FROM ferry.pairs ${where}
      ORDER BY flow, entity, source_key LIMIT ${where.param(query.limit)}`,
    where.params,
  );
  return result.rows.map(pairFromRow);
}

/**
 * Pairs whose source or target key contains `text` (stored form: integers are zero-padded), at most
 * `limit`, from a bounded window of the list (bounded-search.ts); `scanEnd` is where to go on when
 * the window ended before `limit` hits. Values are not searched: some are masked for the reader.
 */
export async function searchPairs(db: StateDb, query: PairQuery, text: string): Promise<{ records: PairRecord[]; scanEnd?: PairPosition }> {
  const where = pairWhere(query);
  const found = await boundedSearch(db, {
    select: `SELECT ${PAIR_COLUMNS} FROM ferry.pairs ${where}`,
    params: where.params,
    order: 'flow, entity, source_key',
    orderDescending: 'flow DESC, entity DESC, source_key DESC',
    searched: ['source_key', 'target_key'],
    text,
    limit: query.limit,
  });
  const end = found.scanEnd;
  return { records: found.hits.map(pairFromRow), ...(end ? { scanEnd: { flow: end.flow as string, entity: end.entity as string, sourceKey: end.source_key as string } } : {}) };
}

function pairWhere(query: PairQuery): Where {
  const where = new Where();
  where.flows(query);
  if (query.entity !== undefined) where.add(`entity = ${where.param(query.entity)}`);
  if (query.category !== undefined) where.add(`category = ${where.param(query.category)}`);
  const after = query.after;
  if (after) where.add(`(flow, entity, source_key) > (${where.param(after.flow)}, ${where.param(after.entity)}, ${where.param(after.sourceKey)})`);
  return where;
}

export async function getPair(db: StateDb, key: PairPosition): Promise<PairRecord | undefined> {
  const result = await db.query(`SELECT ${PAIR_COLUMNS} FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND source_key = $3`, [key.flow, key.entity, key.sourceKey]);
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
