import type { StateDb } from './state-connection.js';

/**
 * ferry.pairs is keyed by a small integer per flow and entity, its scope (ferry.pair_scopes,
 * migration 0018): the primary key (scope, source_key) and the index (scope, target_key) compare one
 * integer where they compared two equal texts, which was ~40% of the state server's CPU in a 1M-row
 * COPY of pairs. Only the store sees the id.
 *
 * An id is looked up once per flow entity and connection (or pool), and remembered only once it is
 * committed: a scope created inside a transaction that is then rolled back must not be used again.
 * The statement that resolved it tells which (the session is idle after it when it ran on its own).
 */
const committed = new WeakMap<object, Map<string, number>>();

/** The id no scope has (ids start at 1): reads of a flow entity without pairs ask for it and find nothing. */
export const NO_SCOPE = 0;

const scopeKey = (flow: string, entity: string) => `${flow}\u0000${entity}`;

function known(db: StateDb, flow: string, entity: string): number | undefined {
  return committed.get(db)?.get(scopeKey(flow, entity));
}

/** Remembers the id when the statement that found it ran outside a transaction block (a pool's statements always do). */
function remember(db: StateDb, flow: string, entity: string, id: number): void {
  const status = 'getTransactionStatus' in db ? db.getTransactionStatus() : 'I';
  if (status !== 'I') return;
  let scopes = committed.get(db);
  if (!scopes) committed.set(db, (scopes = new Map()));
  scopes.set(scopeKey(flow, entity), id);
}

/** The scope of a flow entity for reads: NO_SCOPE when it has never had pairs. */
export async function readScope(db: StateDb, flow: string, entity: string): Promise<number> {
  const cached = known(db, flow, entity);
  if (cached !== undefined) return cached;
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM ferry.pair_scopes WHERE flow = $1 AND entity = $2`, [flow, entity]);
  if (!rows[0]) return NO_SCOPE;
  remember(db, flow, entity, rows[0].id);
  return rows[0].id;
}

/**
 * The scope of a flow entity for writes, created when missing. Valid in the caller's transaction (or
 * committed): a statement writing pairs under it must run in the same transaction as this call.
 */
export async function writeScope(db: StateDb, flow: string, entity: string): Promise<number> {
  const cached = known(db, flow, entity);
  if (cached !== undefined) return cached;
  const { rows } = await db.query<{ id: number }>(`SELECT ferry.pair_scope($1, $2) AS id`, [flow, entity]);
  remember(db, flow, entity, rows[0]!.id);
  return rows[0]!.id;
}

/**
 * Checks, in the transaction that loads them, that pairs built earlier under `id` (new pairs are
 * built before their transaction) still name the flow entity's scope: if the transaction that
 * created the scope was rolled back, the scope is made again under a new id and the batch fails
 * (the run that rolled back is failing anyway).
 */
export async function confirmScope(db: StateDb, flow: string, entity: string, id: number): Promise<void> {
  if (known(db, flow, entity) === id) return;
  const now = await writeScope(db, flow, entity);
  if (now !== id) throw new Error(`the pair scope of flow ${flow} entity ${entity} was rolled back while a batch was built (${id}, now ${now})`);
}
