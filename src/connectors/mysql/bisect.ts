import type { UnitOfWork } from '../bisect.js';
import type { Db } from './db.js';

// Lock wait timeout, deadlock, lost connection: failures of the unit of work, not of one row.
const NOT_ROW_ERRORS = new Set([1205, 1213, 2006, 2013]);

function isRowError(error: unknown): boolean {
  if (!(error instanceof Error) || !('errno' in error) || typeof error.errno !== 'number') return false;
  if ('fatal' in error && error.fatal === true) return false;
  return !NOT_ROW_ERRORS.has(error.errno);
}

/**
 * MariaDB/MySQL attempts: a savepoint inside an open transaction, else a transaction of their own.
 * An attempt of `oneStatement` inside a transaction needs no savepoint: InnoDB undoes a failed
 * statement by itself and keeps the transaction (a deadlock, which ends it, is no row error).
 */
export function unitOfWork(db: Db, oneStatement = false): UnitOfWork {
  return { attempt: (work) => (oneStatement && db.inTransaction ? work() : attempt(db, work)), isRowError };
}

async function attempt(db: Db, work: () => Promise<void>): Promise<void> {
  const own = !db.inTransaction;
  await db.run(own ? 'START TRANSACTION' : 'SAVEPOINT ferry_bisect');
  try {
    await work();
  } catch (error) {
    await db.run(own ? 'ROLLBACK' : 'ROLLBACK TO SAVEPOINT ferry_bisect');
    if (!own) await db.run('RELEASE SAVEPOINT ferry_bisect');
    throw error;
  }
  await db.run(own ? 'COMMIT' : 'RELEASE SAVEPOINT ferry_bisect');
}

/** The reason for a refused row, naming the column when the server names one (without its "at row N"). */
export function rowErrorReason(error: Error, stageToTarget: (name: string) => string = (n) => n): string {
  const message = error.message.replace(/ at row \d+$/, '');
  const column =
    /column '([^']+)'/i.exec(message)?.[1] ??
    /column `[^`]*`\.`[^`]*`\.`([^`]+)`/i.exec(message)?.[1] ??
    /CONSTRAINT `[^`.]*\.([^`]+)` failed/i.exec(message)?.[1];
  return column ? `column ${stageToTarget(column)}: ${message}` : message;
}
