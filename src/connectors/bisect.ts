/**
 * One undoable attempt of a connector: run under a savepoint (or in its own transaction when none
 * is open), and tell a refusal of the rows from a failure of the unit of work itself.
 */
export interface UnitOfWork {
  attempt(work: () => Promise<void>): Promise<void>;
  /** False for lock timeouts, deadlocks and lost connections: bisecting cannot isolate a row then. */
  isRowError(error: unknown): boolean;
}

/**
 * Applies `statement` to items; when the server refuses, splits the items in halves until the
 * refused ones are isolated, so a bad row rejects only itself. Each attempt is undone as a whole.
 */
export async function applyWithBisection<T>(
  unit: UnitOfWork,
  items: T[],
  statement: (subset: T[]) => Promise<void>,
  reject: (item: T, error: Error) => unknown,
): Promise<void> {
  if (items.length === 0) return;
  try {
    await unit.attempt(() => statement(items));
    return;
  } catch (error) {
    if (!(error instanceof Error) || !unit.isRowError(error)) throw error;
    if (items.length === 1) {
      await reject(items[0], error);
      return;
    }
  }
  const middle = Math.ceil(items.length / 2);
  await applyWithBisection(unit, items.slice(0, middle), statement, reject);
  await applyWithBisection(unit, items.slice(middle), statement, reject);
}
