import type pg from 'pg';
import { afterEach } from 'vitest';
import { openStateStore, type StateStore } from '../../src/store/db.js';
import { freshDatabase } from './databases.js';

/**
 * For a describe block whose tests each take one connection to a fresh, migrated state database:
 * call it in the block; the function it returns opens one (named after `name`), released and closed
 * after the test.
 */
export function freshStateClients(): (name: string) => Promise<pg.PoolClient> {
  let store: StateStore | undefined;
  let client: pg.PoolClient | undefined;
  afterEach(async () => {
    client?.release();
    await store?.close();
    client = store = undefined;
  });
  return async (name) => {
    store = await openStateStore(await freshDatabase(name));
    client = await store.pool.connect();
    return client;
  };
}
