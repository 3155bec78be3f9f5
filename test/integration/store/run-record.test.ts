import { expect, it } from 'vitest';
import { buildRunReport, type RunReport } from '../../../src/engine/report.js';
import { openStateStore } from '../../../src/store/db.js';
import { acquireFlowLock, releaseFlowLock } from '../../../src/store/run-lock.js';
import { recordRunStart } from '../../../src/store/run-log.js';
import { withRunRecord, type RecordedRun, type RunSteps } from '../../../src/store/run-record.js';
import { FlowBusyError } from '../../../src/util/errors.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = 'crm/bracket';

/** Steps that note what ran in `events`; `recordEnd` notes the run's status as it found it. */
function steps(runId: string, events: string[], overrides: Partial<RunSteps<RunReport>> = {}): RunSteps<RunReport> {
  return {
    work: async () => {
      events.push('work');
    },
    report: (failure, times) =>
      buildRunReport({
        runId,
        flow: FLOW,
        mode: 'Full',
        dryRun: false,
        ...times,
        watermarksBefore: { people: { cursor: '1', key: ['1'] } },
        watermarksAfter: { people: { cursor: '2', key: ['2'] } },
        entities: [],
        rejectedSamples: [],
        failure,
      }),
    recordEnd: async (bookkeeping) => {
      const row = await bookkeeping.query(`SELECT status FROM ferry.runs WHERE id = $1`, [runId]);
      const locked = await bookkeeping.query(`SELECT run_id FROM ferry.run_locks WHERE flow = $1`, [FLOW]);
      events.push(`recordEnd while ${row.rows[0]?.status}, locked by ${locked.rows[0]?.run_id}`);
    },
    ...overrides,
  };
}

it('records a run from lock to end, hands failures back with the report, refuses a busy flow and marks a dead run Interrupted', async () => {
  const stateUrl = await freshDatabase('run_record');
  const store = await openStateStore(stateUrl);
  const run = (runId: string): RecordedRun => ({ stateUrl, flowId: FLOW, runId, mode: 'Full', dryRun: false, requestedBy: 'tester' });
  const runRow = async (id: string) => (await store.pool.query(`SELECT * FROM ferry.runs WHERE id = $1`, [id])).rows[0];
  const locks = async () => (await store.pool.query(`SELECT run_id FROM ferry.run_locks WHERE flow = $1`, [FLOW])).rows;
  try {
    // A run that died without ending left its row Running.
    const client = await store.pool.connect();
    await recordRunStart(client, { runId: 'dead-1', flow: FLOW, mode: 'Full', dryRun: false, startedAt: new Date() });
    client.release();

    const events: string[] = [];
    const ok = await withRunRecord(run('ok-1'), steps('ok-1', events));
    expect(ok.failure).toBeUndefined();
    expect(ok.report.status).toBe('Succeeded');
    expect(events).toEqual(['work', 'recordEnd while Running, locked by ok-1']);
    expect(await runRow('ok-1')).toMatchObject({ status: 'Succeeded', requested_by: 'tester', error: null, watermarks_after: { people: { cursor: '2', key: ['2'] } } });
    expect((await runRow('ok-1')).report.runId).toBe('ok-1');
    expect(await runRow('dead-1')).toMatchObject({ status: 'Interrupted' });
    expect(await locks()).toEqual([]);

    const failingEvents: string[] = [];
    const failing = await withRunRecord(
      run('failing-1'),
      steps('failing-1', failingEvents, {
        work: async ({ bookkeeping }) => {
          // The work runs with the lock held and the start recorded.
          expect((await bookkeeping.query(`SELECT status FROM ferry.runs WHERE id = 'failing-1'`)).rows[0].status).toBe('Running');
          expect(await locks()).toEqual([{ run_id: 'failing-1' }]);
          throw new Error('source went away');
        },
      }),
    );
    expect((failing.failure as Error).message).toBe('source went away');
    expect(failing.report).toMatchObject({ status: 'Failed', error: 'source went away' });
    expect(await runRow('failing-1')).toMatchObject({ status: 'Failed', error: 'source went away' });
    expect(failingEvents).toEqual(['recordEnd while Running, locked by failing-1']);
    expect(await locks()).toEqual([]);

    // Another run holds the flow: nothing of the refused run is recorded, and its work never runs.
    const holder = await store.pool.connect();
    try {
      await acquireFlowLock(holder, FLOW, 'holder-1');
      const refusedEvents: string[] = [];
      await expect(withRunRecord(run('refused-1'), steps('refused-1', refusedEvents))).rejects.toBeInstanceOf(FlowBusyError);
      expect(refusedEvents).toEqual([]);
      expect(await runRow('refused-1')).toBeUndefined();
      expect(await locks()).toEqual([{ run_id: 'holder-1' }]);
      await releaseFlowLock(holder, FLOW, 'holder-1');
    } finally {
      holder.release();
    }
  } finally {
    await store.close();
  }
});
