import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { RunState } from '../../../src/store/run-state.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = "crm/o'brien";

describe('inflight markers begun with their transaction in one round trip (beginWithInflight)', () => {
  it('keeps every source key as it was (quotes, backslashes, other scripts), clears the markers named, and a rollback leaves none', async () => {
    const store = await openStateStore(await freshDatabase('inflight_markers'));
    const db = await store.pool.connect();
    try {
      const runState = new RunState(db, FLOW, "run-'1'\\");
      const keys = ["o'neil", 'back\\slash', '\\\'both\'\\', 'line\nbreak', 'Ελληνικά', '"quoted"', ''];
      const first = await runState.beginWithInflight("people's", keys);
      await db.query('COMMIT');
      const second = await runState.beginWithInflight('people', ['a'], [first]);
      await db.query('COMMIT');
      expect(await runState.pendingInflight()).toEqual([{ id: second, entity: 'people', sourceKeys: ['a'] }]);

      await runState.beginWithInflight('people', ['b'], [second]);
      await db.query('ROLLBACK');
      expect(await runState.pendingInflight()).toEqual([{ id: second, entity: 'people', sourceKeys: ['a'] }]);

      const third = await runState.beginWithInflight("people's", keys, [second]);
      await db.query('COMMIT');
      expect(await runState.pendingInflight()).toEqual([{ id: third, entity: "people's", sourceKeys: keys }]);
      const { rows } = await db.query('SELECT run_id FROM ferry.inflight_batches');
      expect(rows).toEqual([{ run_id: "run-'1'\\" }]);
    } finally {
      db.release();
      await store.close();
    }
  });
});
