import type { Session } from './connector.js';

/** What unit-of-work boundaries need from a connection: connector sessions and the state store's client both have it. */
export type UnitSession = Pick<Session, 'begin' | 'commit' | 'rollback' | 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint' | 'simulateWrites' | 'beginTracked'>;

/**
 * Unit-of-work boundaries. A real run commits each unit; a dry run wraps the whole run in one
 * transaction per connection and turns units into savepoints, so every statement executes exactly
 * as in a real run (constraints, casts, generated keys) and the final rollback leaves no trace.
 */
export class Transactions {
  private depth = new Map<UnitSession, number>();

  constructor(readonly dryRun: boolean) {}

  async open(session: UnitSession): Promise<void> {
    if (!this.dryRun) return;
    session.simulateWrites?.();
    await session.begin();
  }

  async close(session: UnitSession): Promise<void> {
    if (this.dryRun) await session.rollback();
  }

  async begin(session: UnitSession): Promise<void> {
    if (this.dryRun) {
      const level = (this.depth.get(session) ?? 0) + 1;
      this.depth.set(session, level);
      await session.savepoint(`unit_${level}`);
    } else {
      await session.begin();
    }
  }

  /**
   * `begin`, and the token by which the system can tell later whether this unit committed (capability
   * `transactionOutcome`); undefined in a dry run (a savepoint commits nothing) or on a system without it.
   */
  async beginTracked(session: UnitSession): Promise<string | undefined> {
    if (this.dryRun || !session.beginTracked) {
      await this.begin(session);
      return undefined;
    }
    return session.beginTracked();
  }

  async commit(session: UnitSession): Promise<void> {
    if (this.dryRun) {
      const level = this.depth.get(session) ?? 1;
      this.depth.set(session, level - 1);
      await session.releaseSavepoint(`unit_${level}`);
    } else {
      await session.commit();
    }
  }

  async rollback(session: UnitSession): Promise<void> {
    if (this.dryRun) {
      const level = this.depth.get(session) ?? 1;
      this.depth.set(session, level - 1);
      await session.rollbackToSavepoint(`unit_${level}`).catch(() => {});
      await session.releaseSavepoint(`unit_${level}`).catch(() => {});
    } else {
      await session.rollback().catch(() => {});
    }
  }

  /** Runs `work` as one unit; rolls back and rethrows on error. */
  async unit<T>(session: UnitSession, work: () => Promise<T>): Promise<T> {
    await this.begin(session);
    try {
      const result = await work();
      await this.commit(session);
      return result;
    } catch (error) {
      await this.rollback(session);
      throw error;
    }
  }
}
