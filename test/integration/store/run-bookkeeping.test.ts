import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/controller/run-store.js';
import { buildRunReport } from '../../../src/engine/report.js';
import { openStateStore } from '../../../src/store/db.js';
import { recordFileStarted } from '../../../src/store/export-archive.js';
import { recordTransferEnd, recordTransferPending } from '../../../src/store/export-transfers.js';
import { recordRunEnd, recordRunHeartbeat, recordRunStart, recordUnstartedRun } from '../../../src/store/run-log.js';
import { emptyCounters, RunState } from '../../../src/store/run-state.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = 'crm/loyalty';

/** `db` writes as `ferry job` and the export do; `runs` reads as the controller does, on its own pool. */
async function withStore(test: (db: pg.PoolClient, runs: RunStore) => Promise<void>): Promise<void> {
  const url = await freshDatabase('run_bookkeeping');
  const store = await openStateStore(url);
  const db = await store.pool.connect();
  const runs = new RunStore(url);
  try {
    await test(db, runs);
  } finally {
    await runs.close();
    db.release();
    await store.close();
  }
}

describe('run bookkeeping (ferry job) as the controller reads it back', () => {
  it('a run that never started gets a row once, a started run keeps its own; the heartbeat and the newest attempt with its report and progress', async () => {
    await withStore(async (db, runs) => {
      const startedAt = new Date(Date.now() - 60_000);
      await recordRunStart(db, { runId: 'nightly-a-1', flow: FLOW, mode: 'Full', dryRun: false, startedAt });
      await recordUnstartedRun(db, { runId: 'nightly-a-1', flow: FLOW, mode: 'Full', status: 'Failed', error: 'too late' });
      expect(await runs.latestRun(FLOW, 'nightly-a')).toMatchObject({ id: 'nightly-a-1', status: 'Running', error: undefined, heartbeatAt: undefined });

      await recordRunHeartbeat(db, 'nightly-a-1');
      expect((await runs.latestRun(FLOW, 'nightly-a'))?.heartbeatAt).toBeInstanceOf(Date);

      await recordUnstartedRun(db, { runId: 'nightly-b-1', flow: FLOW, mode: 'Full', status: 'LockHeld', error: 'run nightly-a-1 holds the flow' });
      expect(await runs.latestRun(FLOW, 'nightly-b')).toMatchObject({ id: 'nightly-b-1', status: 'LockHeld', error: 'run nightly-a-1 holds the flow' });
      expect(await runs.latestRun('crm/other', 'nightly-b')).toBeUndefined();

      // A second attempt of the same SyncJob, started later, ends with a report.
      const second = { runId: 'nightly-a-2', flow: FLOW, mode: 'Full', dryRun: false, startedAt: new Date(startedAt.getTime() + 1000) };
      await recordRunStart(db, second);
      await new RunState(db, FLOW, second.runId).saveAllCounters([
        { entity: 'members', position: 1, counters: { ...emptyCounters(), read: 5, created: 4, rejected: 1 } },
        { entity: 'accounts', position: 0, counters: { ...emptyCounters(), read: 2, updated: 2 } },
      ]);
      const report = buildRunReport({
        ...second,
        completedAt: new Date(),
        watermarksBefore: {},
        watermarksAfter: {},
        entities: [],
        rejectedSamples: [],
        failure: undefined,
      });
      await recordRunEnd(db, { runId: second.runId, completedAt: new Date(), watermarksBefore: {}, watermarksAfter: {}, report });
      const latest = await runs.latestRun(FLOW, 'nightly-a');
      expect(latest).toMatchObject({ id: 'nightly-a-2', status: 'Succeeded', report: { runId: 'nightly-a-2', status: 'Succeeded' } });
      expect(latest?.completedAt).toBeInstanceOf(Date);
      expect(await runs.progress('nightly-a-2')).toEqual([
        { name: 'accounts', read: 2, created: 0, updated: 2, unchanged: 0, archived: 0, deleted: 0, rejected: 0 },
        { name: 'members', read: 5, created: 4, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 1 },
      ]);
    });
  });

  it('pair categories are summed over the flow’s entities; the last transfer to a target comes from a flow of its namespace', async () => {
    await withStore(async (db, runs) => {
      await db.query(
        `INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES
           (ferry.pair_scope($1, 'members'), 's1', 't1', 'synchronised'), (ferry.pair_scope($1, 'members'), 's2', 't2', 'conflict'),
           (ferry.pair_scope($1, 'accounts'), 's1', 't1', 'synchronised'), (ferry.pair_scope('crm/other', 'members'), 's9', 't9', 'conflict')`,
        [FLOW],
      );
      expect(await runs.categories(FLOW)).toEqual({ synchronised: 2, conflict: 1 });

      const transferAt = async (flow: string, runId: string, status: string) => {
        await recordRunStart(db, { runId, flow, mode: 'Export', dryRun: false, startedAt: new Date() });
        await recordFileStarted(db, { id: `${runId}-f`, runId, flow, entity: 'members', part: 1, name: 'members.csv' }, 'db', 30);
        const id = await recordTransferPending(db, { runId, fileId: `${runId}-f`, target: 'partner' });
        await recordTransferEnd(db, id, { status, attempts: 1, bytes: 42, ...(status === 'failed' ? { reason: 'AuthFailed', message: 'login refused' } : {}) });
      };
      await transferAt(FLOW, 'export-1', 'transferred');
      await transferAt(FLOW, 'export-2', 'failed');
      await transferAt('sales/orders', 'export-3', 'transferred');
      expect(await runs.lastTransfer('crm', 'partner')).toMatchObject({ runId: 'export-2', state: 'failed', bytes: 42, message: 'login refused' });
      expect(await runs.lastTransfer('sales', 'partner')).toMatchObject({ runId: 'export-3', state: 'transferred' });
      expect(await runs.lastTransfer('crm', 'elsewhere')).toBeUndefined();
    });
  });
});
