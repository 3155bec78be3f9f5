import { hostname } from 'node:os';
import type pg from 'pg';
import { FlowBusyError } from '../util/errors.js';

// A flow's advisory lock is keyed by ferry.flow_lock_key (migration 0008): a hash of the flow id salted
// with its namespace's secret, so a role of another namespace cannot compute the key and hold the lock.

/** Holds the flow's advisory lock on a dedicated connection for the duration of the run. */
export async function acquireFlowLock(client: pg.ClientBase, flowId: string, runId: string): Promise<void> {
  if (!(await tryLock(client, flowId))) {
    const holder = await client.query('SELECT run_id, since, holder FROM ferry.run_locks WHERE flow = $1', [flowId]);
    const row = holder.rows[0];
    if (!(row && holderIsDeadLocalProcess(row.holder) && (await lockWithin(client, flowId, DEAD_HOLDER_GRACE_MS)))) {
      throw new FlowBusyError(flowId, row?.run_id, row?.since);
    }
  }
  // We hold the lock, so any run still marked Running died without cleaning up.
  await client.query(`UPDATE ferry.runs SET status = 'Interrupted', completed_at = now() WHERE flow = $1 AND status = 'Running'`, [flowId]);
  await client.query(
    `INSERT INTO ferry.run_locks (flow, run_id, holder, since) VALUES ($1, $2, $3, now())
     ON CONFLICT (flow) DO UPDATE SET run_id = EXCLUDED.run_id, holder = EXCLUDED.holder, since = now()`,
    [flowId, runId, `${hostname()}/${process.pid}`],
  );
}

// How long a run waits for the server to notice that a killed process on this host held the lock.
const DEAD_HOLDER_GRACE_MS = 10_000;

async function tryLock(client: pg.ClientBase, flowId: string): Promise<boolean> {
  const result = await client.query('SELECT pg_try_advisory_lock(ferry.flow_lock_key($1)) AS locked', [flowId]);
  return result.rows[0].locked;
}

async function lockWithin(client: pg.ClientBase, flowId: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (await tryLock(client, flowId)) return true;
  }
  return false;
}

/**
 * A holder recorded as `host/pid` on this host whose process is gone: its connection is closing and
 * the server will drop its lock in a moment (a run re-started right after a crash must not be refused).
 */
function holderIsDeadLocalProcess(holder: string | null | undefined): boolean {
  const [host, pid] = (holder ?? '').split('/');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function releaseFlowLock(client: pg.ClientBase, flowId: string, runId: string): Promise<void> {
  await client.query('DELETE FROM ferry.run_locks WHERE flow = $1 AND run_id = $2', [flowId, runId]);
  await client.query('SELECT pg_advisory_unlock(ferry.flow_lock_key($1))', [flowId]);
}
