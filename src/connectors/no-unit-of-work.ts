import type { Session } from '../engine/connector.js';

type UnitMethods = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint' | 'beginSnapshot' | 'joinSnapshot' | 'endSnapshot';

/**
 * The unit-of-work and snapshot methods of a session on a system that has neither (an API, files):
 * all no-ops (capabilities `transactions: false`, `sharedSnapshot: false`). Such sessions extend it.
 */
export abstract class WithoutUnitOfWork implements Pick<Session, UnitMethods> {
  async begin(): Promise<void> {}
  async commit(): Promise<void> {}
  async rollback(): Promise<void> {}
  async savepoint(): Promise<void> {}
  async rollbackToSavepoint(): Promise<void> {}
  async releaseSavepoint(): Promise<void> {}
  async beginSnapshot(): Promise<string | undefined> {
    return undefined;
  }
  async joinSnapshot(): Promise<void> {}
  async endSnapshot(): Promise<void> {}
}
