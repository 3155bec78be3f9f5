import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { MARIADBD, mariadbInstalled, startMariaDb, type RunningMariaDb } from '../helpers/mariadb-server.js';
import { suiteRunnable } from '../helpers/required-suites.js';

const servers: RunningMariaDb[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

const password = (url: string) => decodeURIComponent(new URL(url).password);

describe.skipIf(!suiteRunnable(mariadbInstalled(), `the demo's private MariaDB needs ${MARIADBD} (apt-get install mariadb-server, as .ci/run does)`))('the private MariaDB of the demo and the tests', () => {
  it('gets a password generated for each run, and only that one opens it', async () => {
    servers.push(...(await Promise.all([startMariaDb(), startMariaDb()])));
    const [first, second] = servers.map((server) => password(server.url));
    expect(first).not.toBe(second);
    expect(first!.length).toBeGreaterThanOrEqual(20);
    expect(first).not.toBe('ferry-local');

    const connection = await mysql.createConnection(servers[0]!.url);
    await connection.end();
    const guessed = new URL(servers[0]!.url);
    guessed.password = 'ferry-local';
    await expect(mysql.createConnection(guessed.toString())).rejects.toThrow(/Access denied/);
  }, 120_000);
});
