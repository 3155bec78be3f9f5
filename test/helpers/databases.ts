import mysql from 'mysql2';
import pg from 'pg';
import { inject } from 'vitest';

let counter = 0;

/** Creates a fresh, uniquely named database on the shared test server and returns its URL. */
export async function freshDatabase(prefix: string): Promise<string> {
  const base = new URL(inject('pgUrl'));
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  base.pathname = `/${name}`;
  return base.toString();
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh database on the test MariaDB server and returns its `mysql://` URL. Throws (the
 * test fails, it is not skipped) when no MariaDB server is available.
 */
export async function freshMysqlDatabase(prefix: string): Promise<string> {
  const base = inject('mysqlUrl');
  if (!base) throw new Error(inject('mysqlProblem') || 'no MariaDB server for the tests (set TEST_MYSQL_URL)');
  const url = new URL(base);
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = mysql.createConnection({ uri: url.toString() });
  try {
    await admin.promise().query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.promise().end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}
