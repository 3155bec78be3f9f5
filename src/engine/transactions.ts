import type pg from 'pg';

/**
 * Unit-of-work boundaries. A real run commits each unit; a dry run wraps the whole run in one
 * transaction per connection and turns units into savepoints, so every statement executes exactly
 * as in a real run (constraints, casts, generated keys) and the final rollback leaves no trace.
 */
export class Transactions {
  private depth = new Map<pg.ClientBase, number>();

  constructor(readonly dryRun: boolean) {}

  async open(client: pg.ClientBase): Promise<void> {
    if (this.dryRun) await client.query('BEGIN');
  }

  async close(client: pg.ClientBase): Promise<void> {
    if (this.dryRun) await client.query('ROLLBACK');
  }

  async begin(client: pg.ClientBase): Promise<void> {
    if (this.dryRun) {
      const level = (this.depth.get(client) ?? 0) + 1;
      this.depth.set(client, level);
      await client.query(`SAVEPOINT unit_${level}`);
    } else {
      await client.query('BEGIN');
    }
  }

  async commit(client: pg.ClientBase): Promise<void> {
    if (this.dryRun) {
      const level = this.depth.get(client) ?? 1;
      this.depth.set(client, level - 1);
      await client.query(`RELEASE SAVEPOINT unit_${level}`);
    } else {
      await client.query('COMMIT');
    }
  }

  async rollback(client: pg.ClientBase): Promise<void> {
    if (this.dryRun) {
      const level = this.depth.get(client) ?? 1;
      this.depth.set(client, level - 1);
      await client.query(`ROLLBACK TO SAVEPOINT unit_${level}`).catch(() => {});
      await client.query(`RELEASE SAVEPOINT unit_${level}`).catch(() => {});
    } else {
      await client.query('ROLLBACK').catch(() => {});
    }
  }

  /** Runs `work` as one unit; rolls back and rethrows on error. */
  async unit<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
    await this.begin(client);
    try {
      const result = await work();
      await this.commit(client);
      return result;
    } catch (error) {
      await this.rollback(client);
      throw error;
    }
  }
}

/**
 * Applies `statement` to a set of items inside an open transaction; when it fails, splits the set
 * in halves under savepoints until the failing items are isolated, so one bad row rejects only itself.
 */
export async function applyWithBisection<T>(
  client: pg.ClientBase,
  items: T[],
  statement: (subset: T[]) => Promise<void>,
  reject: (item: T, error: Error) => Promise<void> | void,
): Promise<void> {
  if (items.length === 0) return;
  await client.query('SAVEPOINT bisect');
  try {
    await statement(items);
    await client.query('RELEASE SAVEPOINT bisect');
    return;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT bisect');
    await client.query('RELEASE SAVEPOINT bisect');
    if (items.length === 1) {
      await reject(items[0], error as Error);
      return;
    }
  }
  const middle = Math.ceil(items.length / 2);
  await applyWithBisection(client, items.slice(0, middle), statement, reject);
  await applyWithBisection(client, items.slice(middle), statement, reject);
}
