import type pg from 'pg';
import { connect } from '../connectors/postgres/connect.js';

/** A client of the state database, as the store's modules take it. */
export type StateClient = pg.ClientBase;

/** A pool or a client of the state database, for statements that need no session of their own. */
export type StateDb = pg.Pool | StateClient;

/**
 * A connection to the state database, as the engine holds it: unit-of-work boundaries it can drive,
 * and the client the store's modules (pairs, run state) take. Only src/store runs SQL on it.
 */
export class StateConnection {
  constructor(readonly client: pg.Client) {}

  static async open(url: string): Promise<StateConnection> {
    return new StateConnection(await connect(url, 'the state database'));
  }

  async begin(): Promise<void> {
    await this.client.query('BEGIN');
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }

  /**
   * Commits without waiting for the WAL flush (`synchronous_commit = off` for this transaction
   * only). A crash of the server (not of this client) may lose it, with the commits after it, until
   * a commit that waits for its flush has returned: the server flushes its WAL in order, so that
   * one makes every commit before it durable too.
   */
  async commitUnflushed(): Promise<void> {
    await this.client.query('SET LOCAL synchronous_commit = off; COMMIT');
  }

  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  async savepoint(name: string): Promise<void> {
    await this.client.query(`SAVEPOINT ${name}`);
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.client.query(`RELEASE SAVEPOINT ${name}`);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
