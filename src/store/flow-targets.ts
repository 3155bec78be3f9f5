import type { StateDb } from './state-connection.js';

/** Which target table a flow entity writes: the system without credentials, the table and its key columns. */
export interface FlowTarget {
  entity: string;
  system: string;
  table: string;
  keys: string[];
}

/** A target key another flow entity links too; `flow` and `entity` are absent when that flow is in another namespace. */
export interface SharedTargetRow {
  flow?: string;
  entity?: string;
  targetKey: string;
}

/** Records, at the start of a run, the target table each entity of the flow writes; entities the flow dropped are forgotten. */
export async function recordFlowTargets(db: StateDb, flow: string, targets: FlowTarget[]): Promise<void> {
  await db.query(
    `INSERT INTO ferry.flow_targets (flow, entity, target_system, target_table, target_keys)
     SELECT $1, t.entity, t.system, t."table", t.keys FROM jsonb_to_recordset($2::jsonb) AS t(entity text, system text, "table" text, keys text)
     ON CONFLICT (flow, entity) DO UPDATE SET target_system = EXCLUDED.target_system, target_table = EXCLUDED.target_table,
       target_keys = EXCLUDED.target_keys, recorded_at = now()`,
    [flow, JSON.stringify(targets.map((t) => ({ entity: t.entity, system: t.system, table: t.table, keys: t.keys.join(',') })))],
  );
  await db.query(`DELETE FROM ferry.flow_targets WHERE flow = $1 AND NOT (entity = ANY ($2::text[]))`, [flow, targets.map((t) => t.entity)]);
}

/** Whether another flow entity (in any namespace) writes the same target table as this one. */
export async function targetTableShared(db: StateDb, flow: string, entity: string): Promise<boolean> {
  const { rows } = await db.query<{ shared: boolean }>(`SELECT ferry.target_table_shared($1, $2) AS shared`, [flow, entity]);
  return rows[0]?.shared === true;
}

/** Which of these (encoded) target keys another flow entity on the same target table links. */
export async function sharedTargetRows(db: StateDb, flow: string, entity: string, targetKeys: string[]): Promise<SharedTargetRow[]> {
  if (targetKeys.length === 0) return [];
  const { rows } = await db.query<{ other_flow: string | null; other_entity: string | null; target_key: string }>(
    `SELECT other_flow, other_entity, target_key FROM ferry.shared_target_rows($1, $2, $3::text[]) ORDER BY target_key, other_flow, other_entity`,
    [flow, entity, targetKeys],
  );
  return rows.map((r) => ({ ...(r.other_flow !== null ? { flow: r.other_flow } : {}), ...(r.other_entity !== null ? { entity: r.other_entity } : {}), targetKey: r.target_key }));
}
