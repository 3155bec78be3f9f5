import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { copyIn } from '../../../src/util/copy-in.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\tname ${from + i}\n`).join(''));

async function ids(client: pg.Client): Promise<number[]> {
  return (await client.query<{ id: number }>('SELECT id FROM t ORDER BY id')).rows.map((r) => r.id);
}

/** The COPY's failure: the server's error as it is. */
async function failureOf(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(pg.DatabaseError);
  return error as pg.DatabaseError;
}

describe('copyIn', () => {
  it('loads the data in one query, alone or among other statements, and gives their tags', async () => {
    const url = await freshDatabase('copy_in_loads');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      expect(await copyIn(client, 'COPY t (id, name) FROM STDIN', lines(1, 3))).toEqual(['COPY 3']);
      expect(await copyIn(client, 'COPY t (id, name) FROM STDIN', Buffer.alloc(0))).toEqual(['COPY 0']);
      await client.query('BEGIN');
      expect(await copyIn(client, 'SAVEPOINT s; COPY t (id, name) FROM STDIN; RELEASE SAVEPOINT s', lines(4, 5))).toEqual(['SAVEPOINT', 'COPY 2', 'RELEASE']);
      await client.query('COMMIT');
      expect(await ids(client)).toEqual([1, 2, 3, 4, 5]);
      expect((await client.query('SELECT name FROM t WHERE id = 5')).rows).toEqual([{ name: 'name 5' }]);
    });
  });

  it('cuts the data into CopyData messages of at most maxMessage bytes, mid-row and mid-character', async () => {
    const url = await freshDatabase('copy_in_pieces');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      const data = Buffer.from('1\tü✓ one\n2\tÅngström\n3\t\\N\n');
      expect(await copyIn(client, 'COPY t (id, name) FROM STDIN', data, { maxMessage: 5 })).toEqual(['COPY 3']);
      expect((await client.query('SELECT id, name FROM t ORDER BY id')).rows).toEqual([
        { id: 1, name: 'ü✓ one' },
        { id: 2, name: 'Ångström' },
        { id: 3, name: null },
      ]);
    });
  });

  it('fails a COPY that meets a bad row mid-way with the statements completed before it; the savepoint takes it back and the connection goes on', async () => {
    const url = await freshDatabase('copy_in_bad_row');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      await client.query('BEGIN');
      // ~4 MB: still arriving when the server fails the row near its start.
      const data = Buffer.concat([lines(1, 10), Buffer.from('eleven\tnot a number\n'), lines(12, 200_000)]);
      const tags: string[] = [];
      const failure = await failureOf(copyIn(client, 'SAVEPOINT s; COPY t (id, name) FROM STDIN; RELEASE SAVEPOINT s', data, { tags }));
      expect(tags).toEqual(['SAVEPOINT']);
      expect(failure.message).toMatch(/invalid input syntax for type integer: "eleven"/);
      expect(failure.where).toMatch(/COPY t, line 11, column id: "eleven"/);
      await client.query('ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s');
      expect(await copyIn(client, 'SAVEPOINT s; COPY t (id, name) FROM STDIN; RELEASE SAVEPOINT s', lines(7, 8))).toEqual(['SAVEPOINT', 'COPY 2', 'RELEASE']);
      await client.query('COMMIT');
      expect(await ids(client)).toEqual([7, 8]);
    });
  });

  it('fails before the COPY when an earlier statement fails, and the data sent with it is ignored', async () => {
    const url = await freshDatabase('copy_in_before');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => {});
      // The transaction is aborted: the savepoint fails, and with it everything after it in the string.
      const tags: string[] = [];
      const failure = await failureOf(copyIn(client, 'SAVEPOINT s; COPY t (id, name) FROM STDIN', lines(1, 50_000), { tags }));
      expect(tags).toEqual([]);
      expect(failure.message).toMatch(/current transaction is aborted/);
      await client.query('ROLLBACK');
      const unknown = await failureOf(copyIn(client, 'COPY no_such_table FROM STDIN', lines(1, 3)));
      expect(unknown.message).toMatch(/no_such_table/);
      expect((await client.query('SELECT 41 + 1 AS x')).rows).toEqual([{ x: 42 }]);
      expect(await ids(client)).toEqual([]);
    });
  });

  it('fails when the connection is lost', async () => {
    const url = await freshDatabase('copy_in_lost');
    await withClient(url, async (admin) => {
      let outcome: unknown = 'not run';
      await withClient(url, async (client) => {
        client.on('error', () => {}); // the lost connection's event; its statement fails below
        await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
        const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        outcome = await copyIn(client, 'COPY t (id, name) FROM STDIN', lines(1, 3)).then(
          (tags) => tags,
          (error: unknown) => error,
        );
      }).catch(() => {}); // ending the lost client
      expect(outcome).toBeInstanceOf(Error);
      expect(await ids(admin)).toEqual([]);
    });
  });
});
