import type pg from 'pg';
import { pairsBySourceKeys, type StoredPair } from '../store/pairs.js';
import type { Row } from './postgres/copy-out.js';
import { rowsByKeysQuery } from './postgres/source-queries.js';
import type { EntityPlan } from './plan.js';

/** A Record run's rows of one entity, read before any entity is written. */
export interface PrefetchedRows {
  /** Source rows in the layout of `SOURCE_LAYOUT`, as text (as COPY would give them). */
  rows: Row[];
  /** Existing pairs of those rows, by encoded source key. */
  pairs: Map<string, StoredPair>;
}

// Values exactly as PostgreSQL prints them (the text COPY gives), never parsed into JS types.
const AS_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * Reads every closure row from the source (one multi-statement round trip, in the run's snapshot)
 * and their pairs from the state DB (one query). An entity's pairs change only while that entity
 * is synced, so reading them before the run starts is safe.
 */
export async function prefetchClosure(
  source: pg.ClientBase,
  state: pg.ClientBase,
  flow: string,
  plans: Map<string, EntityPlan>,
  keys: Map<string, string[][]>,
  batchSize: number,
): Promise<Map<string, PrefetchedRows>> {
  const statements: { entity: string; sql: string }[] = [];
  for (const [entity, list] of keys) {
    const plan = plans.get(entity)!;
    for (let i = 0; i < list.length; i += batchSize) statements.push({ entity, sql: rowsByKeysQuery(plan, list.slice(i, i + batchSize)) });
  }
  const out = new Map<string, PrefetchedRows>([...keys.keys()].map((entity) => [entity, { rows: [], pairs: new Map() }]));
  if (statements.length === 0) return out;
  const raw = await source.query({ text: statements.map((s) => s.sql).join(';\n'), rowMode: 'array', types: AS_TEXT } as pg.QueryConfig);
  const results = (Array.isArray(raw) ? raw : [raw]) as pg.QueryResult<Row>[];
  statements.forEach((statement, i) => out.get(statement.entity)!.rows.push(...results[i].rows));

  const encoded = new Map([...keys].map(([entity, list]) => [entity, list.map((parts) => plans.get(entity)!.source.codec.encode(parts)!)]));
  for (const [entity, pairs] of await pairsBySourceKeys(state, flow, encoded)) out.get(entity)!.pairs = pairs;
  return out;
}
