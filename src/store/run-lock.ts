import { hostname } from 'node:os';
import type pg from 'pg';
import { FlowBusyError } from '../util/errors.js';

// Namespace for Ferry's per-flow advisory locks (the second key is a hash of the flow id).
const FLOW_LOCK_CLASS = 0x66727931;

/** Holds the flow's advisory lock on a dedicated connection for the duration of the run. */
export async function acquireFlowLock(client: pg.ClientBase, flowId: string, runId: string): Promise<void> {
  const result = await client.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [FLOW_LOCK_CLASS, flowId]);
  if (!result.rows[0].locked) {
    const holder = await client.query('SELECT run_id, since FROM ferry.run_locks WHERE flow = $1', [flowId]);
    throw new FlowBusyError(flowId, holder.rows[0]?.run_id, holder.rows[0]?.since);
  }
  // We hold the lock, so any run still marked Running died without cleaning up.
  await client.query(`UPDATE ferry.runs SET status = 'Interrupted', completed_at = now() WHERE flow = $1 AND status = 'Running'`, [flowId]);
  await client.query(
    `INSERT INTO ferry.run_locks (flow, run_id, holder, since) VALUES ($1, $2, $3, now())
     ON CONFLICT (flow) DO UPDATE SET run_id = EXCLUDED.run_id, holder = EXCLUDED.holder, since = now()`,
    [flowId, runId, `${hostname()}/${process.pid}`],
  );
}

export async function releaseFlowLock(client: pg.ClientBase, flowId: string, runId: string): Promise<void> {
  await client.query('DELETE FROM ferry.run_locks WHERE flow = $1 AND run_id = $2', [flowId, runId]);
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [FLOW_LOCK_CLASS, flowId]);
}
