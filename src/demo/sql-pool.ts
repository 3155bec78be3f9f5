import pg from 'pg';

/** Opens a connection tuned for bulk work, runs `fn`, closes it. */
export async function withBulkSession<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // No need to wait for each commit to reach disk; roomy memory for index builds and FK checks.
    await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'; SET TimeZone = 'UTC'`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs tasks on up to `connections` connections at once. A task is a list of statements that
 * run in order on one connection; each connection takes the next task when it is done.
 */
export async function runTasks(url: string, connections: number, tasks: string[][]): Promise<void> {
  let next = 0;
  const worker = () =>
    withBulkSession(url, async (client) => {
      while (next < tasks.length) {
        for (const statement of tasks[next++]) await client.query(statement);
      }
    });
  await Promise.all(Array.from({ length: Math.min(connections, tasks.length) }, worker));
}
