import type pg from 'pg';

/** One field of a pair in conflict, as the two-way run saw both systems. */
export interface ConflictFieldWrite {
  /** Source column and target column of the mapping. */
  field: string;
  targetField: string;
  position: number;
  sourceValue: string | null;
  targetValue: string | null;
  sourceChangedAt: Date | null;
  targetChangedAt: Date | null;
}

export interface ConflictFieldChanges {
  /** Pairs in the conflict category after the batch, with the fields that differ now. */
  conflicts: { sourceKey: string; fields: ConflictFieldWrite[] }[];
  /** Pairs that left the conflict category (or were dropped): their recorded fields go. */
  settled: string[];
}

/** Bounds per pair: a wide table or a huge text column cannot blow up the state DB. */
export const MAX_CONFLICT_FIELDS = 50;
export const MAX_VALUE_CHARS = 2000;

const bounded = (value: string | null) => (value === null || value.length <= MAX_VALUE_CHARS ? value : `${value.slice(0, MAX_VALUE_CHARS)}…`);

/**
 * Replaces the recorded conflicting fields of the given pairs, in the caller's transaction (the one
 * that saves the pairs), so the data API never shows values of a conflict that no longer exists.
 */
export async function replaceConflictFields(client: pg.ClientBase, flow: string, entity: string, runId: string, changes: ConflictFieldChanges): Promise<void> {
  const keys = [...changes.settled, ...changes.conflicts.map((c) => c.sourceKey)];
  if (keys.length === 0) return;
  await client.query(`DELETE FROM ferry.pair_conflict_fields WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[])`, [flow, entity, keys]);
  const rows = changes.conflicts.flatMap((c) => c.fields.slice(0, MAX_CONFLICT_FIELDS).map((f) => ({ sourceKey: c.sourceKey, ...f })));
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, source_value, target_value, source_changed_at, target_changed_at, run_id)
     SELECT $1, $2, k, f, tf, p, sv, tv, sc, tc, $3
       FROM unnest($4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[]) AS u(k, f, tf, p, sv, tv, sc, tc)`,
    [
      flow,
      entity,
      runId,
      rows.map((r) => r.sourceKey),
      rows.map((r) => r.field),
      rows.map((r) => r.targetField),
      rows.map((r) => r.position),
      rows.map((r) => bounded(r.sourceValue)),
      rows.map((r) => bounded(r.targetValue)),
      rows.map((r) => r.sourceChangedAt),
      rows.map((r) => r.targetChangedAt),
    ],
  );
}
