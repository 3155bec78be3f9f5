import { describe, expect, it } from 'vitest';
import { connect as connectMysql } from '../../../../src/connectors/mysql/connect.js';
import { connect as connectPostgres } from '../../../../src/connectors/postgres/connect.js';
import { STALL_DEFAULTS } from '../../../../src/engine/stall-watch.js';
import { testDatabase } from '../../../helpers/pairings.js';

/**
 * The other side of the stall watch: a statement that is silent for longer than the quiet period
 * on a server that answers must not be taken for a lost server.
 */
const SLEEP_S = Math.ceil(STALL_DEFAULTS.quietMs / 1000) + 3;

describe('a slow statement on a live server', () => {
  it(`runs to its end on every connector, silent for ${SLEEP_S} s`, { timeout: 60_000 }, async () => {
    const [pg, my] = await Promise.all([testDatabase('postgres', 'slow'), testDatabase('mysql', 'slow')]);
    const pgClient = await connectPostgres(pg.url, 'the slow database');
    const { connection } = await connectMysql(my.url, 'the slow database');
    try {
      const [pgResult, [myRows]] = await Promise.all([
        pgClient.query(`SELECT pg_sleep(${SLEEP_S}), 'done' AS status`),
        connection.promise().query({ sql: `SELECT SLEEP(${SLEEP_S}), 'done'`, rowsAsArray: true }),
      ]);
      expect(pgResult.rows[0].status).toBe('done');
      expect((myRows as unknown[][])[0][1]).toBe('done');
    } finally {
      await pgClient.end();
      connection.destroy();
    }
  });
});
