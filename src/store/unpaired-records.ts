import type { StateClient, StateDb } from './state-connection.js';
import { Where, type FlowScope } from './where.js';

export type UnpairedSide = 'source' | 'target';

/** Why no action paired a record: none applies (`unmatched`), or a partner matches but `link` is off (`duplicate`). */
export type UnpairedReason = 'unmatched' | 'duplicate';

/** A record a run left without a partner, as the engine reports it. */
export interface UnpairedSighting {
  side: UnpairedSide;
  /** Encoded key (engine/keys.ts). */
  key: string;
  /** Normalised match values in the entity's `match` order. */
  matchValues: (string | null)[];
  reason: UnpairedReason;
  inScope: boolean;
}

/** A suggested partner on the other side, with the positions (in `match` order) of the match fields that agree. */
export interface PartnerSuggestion {
  key: string;
  agreeing: number[];
}

export interface UnpairedRecord {
  flow: string;
  entity: string;
  side: UnpairedSide;
  key: string;
  reason: UnpairedReason;
  inScope: boolean;
  runId: string;
  seenAt: Date;
  /** Up to three unpaired records of the other side, most agreeing match fields first. */
  suggestions: PartnerSuggestion[];
}

export interface UnpairedPosition {
  flow: string;
  entity: string;
  side: UnpairedSide;
  key: string;
}

export interface UnpairedQuery extends FlowScope {
  entity?: string;
  side?: UnpairedSide;
  /** One record's encoded key (a get by name). */
  key?: string;
  /** Keyset paging: records strictly after this one, in (flow, entity, side, key) order. */
  after?: UnpairedPosition;
  limit: number;
}

const tokensOf = (values: (string | null)[]) => values.flatMap((v, i) => (v === null ? [] : [`${i}:${v}`]));

/**
 * The unpaired records (category `new`) of one flow and entity, written by the two-way runs that see
 * them. A Full run meets every row, so it forgets the records it did not see; Incremental and Record
 * runs only add, refresh and forget the rows they touch.
 */
export class UnpairedRecords {
  constructor(
    private readonly client: StateClient,
    readonly flow: string,
    readonly entity: string,
  ) {}

  async keep(runId: string, sightings: UnpairedSighting[]): Promise<void> {
    if (sightings.length === 0) return;
    const column = <K extends keyof UnpairedSighting>(k: K) => sightings.map((s) => s[k]);
    await this.client.query(
      `INSERT INTO ferry.unpaired_records AS u (flow, entity, side, record_key, match_values, match_tokens, reason, in_scope, run_id, seen_at)
       SELECT $1, $2, s.side, s.key, s.vals::text[], s.tokens::text[], s.reason, s.in_scope, $3, now()
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[]) AS s(side, key, vals, tokens, reason, in_scope)
       ON CONFLICT (flow, entity, side, record_key) DO UPDATE
         SET match_values = EXCLUDED.match_values, match_tokens = EXCLUDED.match_tokens, reason = EXCLUDED.reason,
             in_scope = EXCLUDED.in_scope, run_id = EXCLUDED.run_id, seen_at = EXCLUDED.seen_at`,
      [
        this.flow,
        this.entity,
        runId,
        column('side'),
        column('key'),
        // Arrays of arrays travel as their text literal: unnest of a 2-D array would flatten them.
        sightings.map((s) => arrayLiteral(s.matchValues)),
        sightings.map((s) => arrayLiteral(tokensOf(s.matchValues))),
        column('reason'),
        column('inScope'),
      ],
    );
  }

  /** Records that are paired now (linked, created, or resolved by hand) or vanished. */
  async forget(side: UnpairedSide, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.query(`DELETE FROM ferry.unpaired_records WHERE flow = $1 AND entity = $2 AND side = $3 AND record_key = ANY($4::text[])`, [
      this.flow,
      this.entity,
      side,
      keys,
    ]);
  }

  /** After a Full run of this entity: records this run did not meet are gone or paired. */
  async forgetUnseen(runId: string): Promise<number> {
    const result = await this.client.query(`DELETE FROM ferry.unpaired_records WHERE flow = $1 AND entity = $2 AND run_id <> $3`, [
      this.flow,
      this.entity,
      runId,
    ]);
    return result.rowCount ?? 0;
  }
}

function arrayLiteral(values: (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}

/**
 * One page of unpaired records in (flow, entity, side, key) order, each with up to three suggested
 * partners: unpaired records of the other side of the same entity sharing at least one match value,
 * ranked by how many agree. Both the page (keyset) and the suggestions (GIN on the tokens) cost the
 * same whatever the table's size.
 */
export async function listUnpaired(db: StateDb, query: UnpairedQuery): Promise<UnpairedRecord[]> {
  const where = new Where();
  where.flows(query, 'u.flow');
  if (query.entity !== undefined) where.add(`u.entity = ${where.param(query.entity)}`);
  if (query.side !== undefined) where.add(`u.side = ${where.param(query.side)}`);
  if (query.key !== undefined) where.add(`u.record_key = ${where.param(query.key)}`);
  const after = query.after;
  if (after) {
    where.add(
      `(u.flow, u.entity, u.side, u.record_key) > (${where.param(after.flow)}, ${where.param(after.entity)}, ${where.param(after.side)}, ${where.param(after.key)})`,
    );
  }
  return selectUnpaired(db, where, query.limit);
}

/** Unpaired records (alias `u`) meeting `where`, in (flow, entity, side, key) order, with their suggested partners. */
export async function selectUnpaired(db: StateDb, where: Where, limit?: number): Promise<UnpairedRecord[]> {
  const result = await db.query(
    `SELECT u.flow, u.entity, u.side, u.record_key, u.reason, u.in_scope, u.run_id, u.seen_at,
            coalesce(s.suggestions, '[]'::jsonb) AS suggestions
       FROM ferry.unpaired_records u
       LEFT JOIN LATERAL (
         SELECT jsonb_agg(jsonb_build_object('key', c.record_key, 'agreeing', c.agreeing) ORDER BY c.n DESC, c.record_key COLLATE "C") AS suggestions
           FROM (SELECT o.record_key, a.agreeing, cardinality(a.agreeing) AS n
                   FROM ferry.unpaired_records o
                   CROSS JOIN LATERAL (
                     SELECT array_agg(m.i - 1 ORDER BY m.i) AS agreeing
                       FROM unnest(u.match_values, o.match_values) WITH ORDINALITY AS m(mine, theirs, i)
                      WHERE m.mine = m.theirs) a
                  WHERE o.flow = u.flow AND o.entity = u.entity AND o.side <> u.side AND o.match_tokens && u.match_tokens
                  ORDER BY n DESC, o.record_key COLLATE "C"
                  LIMIT 3) c
       ) s ON true
       ${where}
      ORDER BY u.flow, u.entity, u.side, u.record_key${limit === undefined ? '' : ` LIMIT ${where.param(limit)}`}`,
    where.params,
  );
  return result.rows.map(unpairedFromRow);
}

/** A row of ferry.unpaired_records (or a deleted one's JSON, whose `seen_at` is text) as a record. */
export function unpairedFromRow(r: Record<string, unknown>): UnpairedRecord {
  return {
    flow: r.flow as string,
    entity: r.entity as string,
    side: r.side as UnpairedSide,
    key: r.record_key as string,
    reason: r.reason as UnpairedReason,
    inScope: r.in_scope as boolean,
    runId: r.run_id as string,
    seenAt: r.seen_at instanceof Date ? r.seen_at : new Date(r.seen_at as string),
    suggestions: (r.suggestions ?? []) as PartnerSuggestion[],
  };
}

/** Unpaired records per entity of a flow: the `new` category count of reports, `ferry pairs` and SyncFlow.status. */
export async function unpairedCounts(db: StateDb, flow: string): Promise<Map<string, number>> {
  const result = await db.query(`SELECT entity, count(*)::int AS n FROM ferry.unpaired_records WHERE flow = $1 GROUP BY entity`, [flow]);
  return new Map(result.rows.map((r) => [r.entity as string, r.n as number]));
}
