import { MARIADBD, mariadbInstalled, startMariaDb, type RunningMariaDb } from '../../src/local/mariadb-server.js';

export { MARIADBD, mariadbInstalled, startMariaDb, type RunningMariaDb };

let running: RunningMariaDb | undefined;

/**
 * The vitest globalSetup part: TEST_MYSQL_URL, else a private mariadbd. Never throws: when neither
 * is available the MariaDB tests fail with `mysqlProblem` (they must not be skipped on a machine
 * that could run them), while every other test runs.
 */
export async function provideMariaDb(project: { provide(key: 'mysqlUrl' | 'mysqlProblem', value: string): void }): Promise<void> {
  const external = process.env.TEST_MYSQL_URL;
  project.provide('mysqlProblem', '');
  if (external) {
    project.provide('mysqlUrl', external);
    return;
  }
  project.provide('mysqlUrl', '');
  if (!mariadbInstalled()) {
    project.provide(
      'mysqlProblem',
      `MariaDB tests need a server: ${MARIADBD} is not installed (apt-get install mariadb-server mariadb-client) and TEST_MYSQL_URL is not set`,
    );
    return;
  }
  try {
    running = await startMariaDb();
    project.provide('mysqlUrl', running.url);
    if (process.env.FERRY_TEST_TIMINGS) console.log(`mariadbd started in ${running.startMs} ms`);
  } catch (error) {
    project.provide('mysqlProblem', `the test MariaDB server did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function stopMariaDb(): Promise<void> {
  await running?.stop();
  running = undefined;
}
