import type { Session } from '../../engine/connector.js';
import type { UnitOfWork } from '../bisect.js';

type Savepoints = Pick<Session, 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint'>;

// SQLSTATE classes of a failed unit of work: connection (08), rollback such as deadlock and
// serialization (40), resources (53), operator intervention such as statement timeout (57), internal (XX).
const UNIT_FAILURE_CLASSES = new Set(['08', '40', '53', '57', 'XX']);
const LOCK_NOT_AVAILABLE = '55P03';

/** A server error about the rows (bad value, constraint), as opposed to a lost connection or a timeout. */
export function isRowError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code === undefined) return !/connection|terminated/i.test(error.message);
  if (code.startsWith('E')) return false; // a socket error (ECONNRESET, EPIPE, ...)
  return code !== LOCK_NOT_AVAILABLE && !UNIT_FAILURE_CLASSES.has(code.slice(0, 2));
}

/** PostgreSQL attempts: always inside the run's open transaction, each under a savepoint. */
export function savepointUnit(session: Savepoints): UnitOfWork {
  return {
    async attempt(work) {
      await session.savepoint('ferry_bisect');
      try {
        await work();
      } catch (error) {
        await session.rollbackToSavepoint('ferry_bisect');
        await session.releaseSavepoint('ferry_bisect');
        throw error;
      }
      await session.releaseSavepoint('ferry_bisect');
    },
    isRowError,
  };
}
