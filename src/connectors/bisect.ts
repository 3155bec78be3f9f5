import type { Session } from '../engine/connector.js';

type Savepoints = Pick<Session, 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint'>;

/**
 * Applies `statement` to a set of items inside an open transaction; when it fails, splits the set
 * in halves under savepoints until the failing items are isolated, so one bad row rejects only itself.
 */
export async function applyWithBisection<T>(
  session: Savepoints,
  items: T[],
  statement: (subset: T[]) => Promise<void>,
  reject: (item: T, error: Error) => Promise<void> | void,
): Promise<void> {
  if (items.length === 0) return;
  await session.savepoint('bisect');
  try {
    await statement(items);
    await session.releaseSavepoint('bisect');
    return;
  } catch (error) {
    await session.rollbackToSavepoint('bisect');
    await session.releaseSavepoint('bisect');
    if (items.length === 1) {
      await reject(items[0], error as Error);
      return;
    }
  }
  const middle = Math.ceil(items.length / 2);
  await applyWithBisection(session, items.slice(0, middle), statement, reject);
  await applyWithBisection(session, items.slice(middle), statement, reject);
}
