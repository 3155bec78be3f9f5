import type { StateClient } from './state-connection.js';

/** What one entity of a past run read, and how long it took. */
export interface EntitySample {
  entity: string;
  read: number;
  durationMs: number;
}

/** A past successful run of a flow, with its per-entity samples (estimates learn from these). */
export interface RunSample {
  id: string;
  mode: string;
  durationMs: number;
  entities: EntitySample[];
}

/** The flow's most recent successful, real (not dry) runs of the given modes, newest first. */
export async function recentRuns(state: StateClient, flowId: string, modes: string[], limit: number): Promise<RunSample[]> {
  const runs = await state.query(
    `SELECT id, mode, extract(epoch FROM (completed_at - started_at)) * 1000 AS duration_ms
       FROM ferry.runs
      WHERE flow = $1 AND mode = ANY($2) AND status = 'Succeeded' AND NOT dry_run AND completed_at IS NOT NULL
      ORDER BY completed_at DESC LIMIT $3`,
    [flowId, modes, limit],
  );
  if (runs.rowCount === 0) return [];
  const entities = await state.query(
    `SELECT run_id, entity, read, duration_ms FROM ferry.run_entities WHERE run_id = ANY($1)`,
    [runs.rows.map((r) => r.id)],
  );
  const byRun = new Map<string, EntitySample[]>();
  for (const row of entities.rows) {
    const list = byRun.get(row.run_id) ?? [];
    list.push({ entity: row.entity, read: Number(row.read), durationMs: Number(row.duration_ms) });
    byRun.set(row.run_id, list);
  }
  return runs.rows.map((r) => ({ id: r.id, mode: r.mode, durationMs: Number(r.duration_ms), entities: byRun.get(r.id) ?? [] }));
}
