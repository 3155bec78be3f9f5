import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { acquireFlowLock, releaseFlowLock } from '../../../src/store/run-lock.js';
import { FlowBusyError } from '../../../src/util/errors.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = 'crm/lock';

/** The pid of a process that has exited: the holder a SIGKILLed `ferry run` leaves in ferry.run_locks. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

it('refuses a flow whose lock a live run holds, but waits for the lock of a run killed on this host', async () => {
  const store = await openStateStore(await freshDatabase('run_lock'));
  const [holder, next] = [await store.pool.connect(), await store.pool.connect()];
  try {
    await acquireFlowLock(holder, FLOW, 'first');
    await expect(acquireFlowLock(next, FLOW, 'second')).rejects.toBeInstanceOf(FlowBusyError);

    // The holder's process is gone, but the server has not dropped its session yet: the next run waits for it.
    await holder.query(`UPDATE ferry.run_locks SET holder = $2 WHERE flow = $1`, [FLOW, `${hostname()}/${deadPid()}`]);
    const serverNotices = setTimeout(() => void holder.query('SELECT pg_advisory_unlock_all()'), 1_000);
    const started = Date.now();
    await acquireFlowLock(next, FLOW, 'second');
    clearTimeout(serverNotices);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await releaseFlowLock(next, FLOW, 'second');
  } finally {
    holder.release();
    next.release();
    await store.close();
  }
});
