import { currentHorizon } from '../../src/store/change-reads.js';
import type { StateDb } from '../../src/store/state-connection.js';

/**
 * Waits until every transaction begun before this call has ended. Change reads
 * (src/store/change-reads.ts) report a write once its transaction is below the horizon, and the
 * tests share one PostgreSQL server: another file's open transaction holds the horizon back (the
 * write is reported later, not lost), so a test reads its changes only after this.
 */
export async function awaitHorizonPastNow(db: StateDb, timeoutMs = 60_000): Promise<void> {
  const now = Number((await db.query(`SELECT pg_current_xact_id()::text AS x`)).rows[0].x);
  const deadline = Date.now() + timeoutMs;
  for (let horizon = await currentHorizon(db); horizon <= now; horizon = await currentHorizon(db)) {
    if (Date.now() > deadline) throw new Error(`the horizon stayed at ${horizon}, below ${now}, for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
