/**
 * Runs work items on a fixed number of lanes, starting an item only once every item it depends on
 * has finished. Items are started in the given order (a topological order), so with one lane this
 * is a plain sequential run. After the first failure no new item starts; the first error is thrown
 * once the running items have settled.
 */
export async function runInDependencyOrder<T extends { name: string; requires: string[] }, L>(
  items: T[],
  lanes: L[],
  work: (item: T, lane: L) => Promise<void>,
): Promise<void> {
  const known = new Set(items.map((i) => i.name));
  const pending = [...items];
  const done = new Set<string>();
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  const ready = (item: T) => item.requires.every((d) => done.has(d) || !known.has(d) || d === item.name);

  const runLane = async (lane: L) => {
    while (!failure && pending.length > 0) {
      const index = pending.findIndex(ready);
      if (index === -1) {
        await Promise.race(running);
        continue;
      }
      const [item] = pending.splice(index, 1);
      const job = work(item, lane).then(
        () => {
          done.add(item.name);
        },
        (error) => {
          failure ??= { error };
        },
      );
      running.add(job);
      await job;
      running.delete(job);
    }
  };
  await Promise.all(lanes.map(runLane));
  if (failure) throw failure.error;
}
