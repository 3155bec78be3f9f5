import { readScope } from './pair-scopes.js';
import type { StateDb } from './state-connection.js';

/*
 * The statistics of ferry.pairs steer the plans of look-ups by key. A flow's 1M pairs, loaded moments
 * earlier and not analysed yet (autovacuum gets there within a minute or so), are put at one or ten,
 * and then reading all of them for each batch of keys looks as cheap as probing the primary key per
 * key: 0.45 s a look-up of 5,000 keys instead of 25 ms, and a chunked join that hung.
 *
 * ANALYZE samples a bounded number of rows and takes a lock that only other ANALYZE and VACUUM wait
 * for. Only the table's owner (or a superuser) may run it; a namespace's role is told so, not failed.
 */

/**
 * Rows ANALYZE samples are 300 times this. What the plans need, the pairs of each flow entity counted
 * about right and every key distinct, shows in 3,000 rows as well as in the default 30,000; and right
 * after a load the sample's pages are read for the first time (their hint bits set), which took 0.5 s
 * of a 1M-pair first import's end at the default, 0.1 s at this. autovacuum's own ANALYZE, once a
 * tenth of the pairs changed, samples at the server's setting.
 */
const SAMPLE_TARGET = 10;

/** Analyses ferry.pairs with a small sample (one statement string: the setting reverts with a failure, and never outlives it). */
function analysePairs(db: StateDb): Promise<unknown> {
  return db.query(`SET default_statistics_target = ${SAMPLE_TARGET}; ANALYZE ferry.pairs; RESET default_statistics_target`);
}

/** Rows changed since the last ANALYZE, beyond this share of those it counted (autovacuum's default), make the statistics stale. */
const STALE_SHARE = 0.1;
/** ...and beyond this many: a small table is not analysed again for a handful of rows. */
const STALE_FLOOR = 1_000;
/** The planner's count of a flow's pairs is fit for look-ups by key from this share of the real count up. */
const FIT_SHARE = 0.1;

/** Whether this session may analyse ferry.pairs (its owner, a member of the owner's role, or a superuser). */
const OURS = `pg_has_role(current_user, c.relowner, 'USAGE') AS ours`;

export type PairStatistics = 'fresh' | 'analysed' | 'stale, not ours to analyse';

/**
 * Analyses ferry.pairs when its statistics lag behind its rows: never analysed, or more rows changed
 * since than a tenth of those it counted. A run that bulk-loaded pairs calls this at its end, so the
 * next run's look-ups by key (`key = ANY(...)`) are planned with them counted. `written` is how many
 * pairs the caller just wrote: the server's own count of changed rows reaches pg_stat only when the
 * writing session flushes its statistics (up to seconds later), so right after a load it can still
 * read zero.
 */
export async function refreshPairStatistics(db: StateDb, written = 0): Promise<PairStatistics> {
  const { rows } = await db.query<{ counted: number; changed: string | null; ours: boolean }>(
    `SELECT c.reltuples AS counted, s.n_mod_since_analyze AS changed, ${OURS}
       FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE c.oid = 'ferry.pairs'::regclass`,
  );
  const { counted, changed, ours } = rows[0]!;
  const stale = counted < 0 || Math.max(written, Number(changed ?? 0)) > STALE_FLOOR + STALE_SHARE * counted;
  if (!stale) return 'fresh';
  if (!ours) return 'stale, not ours to analyse';
  await analysePairs(db);
  return 'analysed';
}

/**
 * Whether the planner counts a flow's `count` pairs about right (at least a tenth of them), so that
 * look-ups by key probe the primary key; if not, ferry.pairs is analysed (when this role may) and
 * asked again. Checked per flow: a table analysed before this flow's pairs were loaded can count the
 * table right and the flow wrong.
 */
export async function pairStatisticsFit(db: StateDb, flow: string, entity: string, count: number): Promise<boolean> {
  if ((await plannedPairs(db, flow, entity)) >= FIT_SHARE * count) return true;
  const { rows } = await db.query<{ ours: boolean }>(`SELECT ${OURS} FROM pg_class c WHERE c.oid = 'ferry.pairs'::regclass`);
  if (!rows[0]!.ours) return false;
  await analysePairs(db);
  return (await plannedPairs(db, flow, entity)) >= FIT_SHARE * count;
}

/** The planner's estimate of a flow's pairs. */
async function plannedPairs(db: StateDb, flow: string, entity: string): Promise<number> {
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ferry.pairs WHERE scope = $1`, [await readScope(db, flow, entity)]);
  return Number(rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
}
