import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/controller/run-store.js';
import { freshDatabase, withClient } from '../helpers/databases.js';

const stores: RunStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((store) => store.pool.end().catch(() => {})));
});

describe("hostile environment: the controller's state database connection is cut", () => {
  it('a checked-out run-store client whose connection dies neither crashes the process nor leaves the pool unusable', async () => {
    const url = await freshDatabase('hostile_controller_state');
    const store = new RunStore(url);
    stores.push(store);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const client = await store.pool.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await withClient(url, (admin) => admin.query('SELECT pg_terminate_backend($1)', [pid]));
      // The client learns of it from the socket while checked out (as during an estimate or a pending-rows count).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      const again = await store.pool.query<{ one: number }>('SELECT 1 AS one');
      expect(again.rows[0]!.one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught.map(String)).toEqual([]);
  });
});
