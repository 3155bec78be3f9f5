import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/util/embedded-postgres.js';
import { provideMariaDb, stopMariaDb } from './mariadb-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** `mysql://…/` of the test MariaDB server, or '' (then `mysqlProblem` says why). */
    mysqlUrl: string;
    mysqlProblem: string;
  }
}

let server: RunningPostgres | undefined;

/** One real PostgreSQL server for the whole run; TEST_DATABASE_URL points at an existing one instead. */
export async function setup(project: TestProject): Promise<void> {
  const mariadb = provideMariaDb(project);
  try {
    await setupPostgres(project);
  } finally {
    await mariadb;
  }
}

async function setupPostgres(project: TestProject): Promise<void> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('pgUrl', external);
    return;
  }
  server = await startEmbeddedPostgres({ persistent: false });
  project.provide('pgUrl', server.url);
}

export async function teardown(): Promise<void> {
  await Promise.all([server?.stop(), stopMariaDb()]);
}
