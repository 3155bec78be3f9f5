import { describe, expect, it } from 'vitest';
import { connect, endWithin } from '../../src/connectors/postgres/connect.js';
import { freshDatabase, withClient } from '../helpers/databases.js';

describe('a lost source connection', () => {
  it('names the system it belonged to, without its password', async () => {
    const url = await freshDatabase('lost_source');
    const client = await connect(url, 'the source database');
    try {
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await withClient(url, (c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      const error = await client.query('SELECT 1').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/^lost the connection to the source database at postgres:\/\/[^:]+:\*\*\*@/);
      const password = new URL(url).password;
      if (password) expect(error?.message).not.toContain(password);
    } finally {
      await endWithin(client, 1000);
    }
  });

  it('names it for a statement the server ends while it runs (its FATAL answer, before any connection error)', async () => {
    const url = await freshDatabase('lost_source_running');
    const client = await connect(url, 'the source database');
    try {
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const running = client.query('SELECT pg_sleep(30)').then(
        () => undefined,
        (e: Error) => e,
      );
      await withClient(url, async (c) => {
        // Wait until the statement is running, so the server's answer to it is the FATAL one.
        for (let i = 0; i < 100; i++) {
          const active = await c.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]);
          if (active.rowCount) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await c.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      const error = await running;
      expect(error?.message).toMatch(/^lost the connection to the source database at postgres:\/\/[^:]+:\*\*\*@.*terminating connection/);
    } finally {
      await endWithin(client, 1000);
    }
  });
});
