import { compareKeys } from './keys.js';

/** One step of a join by key: a row on the left, on the right, or on both with the same key. */
export interface KeyMatch<L, R> {
  left?: L;
  right?: R;
}

/**
 * Merge-joins two streams that both come in the engine's key order (`compareKeys` over encoded
 * keys), like a full outer join: every row of either side comes out once, paired with its partner
 * when the other side has the same key.
 */
export async function* mergeByKey<L, R>(
  left: AsyncIterable<L>,
  right: AsyncIterable<R>,
  leftKey: (row: L) => string,
  rightKey: (row: R) => string,
): AsyncGenerator<KeyMatch<L, R>> {
  const lefts = left[Symbol.asyncIterator]();
  const rights = right[Symbol.asyncIterator]();
  // A consumer that stops early (an error in a batch) must not leave either scan holding its connection.
  try {
    let l = await lefts.next();
    let r = await rights.next();
    while (!l.done || !r.done) {
      const order = l.done ? 1 : r.done ? -1 : compareKeys(leftKey(l.value), rightKey(r.value));
      if (order === 0) {
        yield { left: l.value as L, right: r.value as R };
        l = await lefts.next();
        r = await rights.next();
      } else if (order < 0) {
        yield { left: l.value as L };
        l = await lefts.next();
      } else {
        yield { right: r.value as R };
        r = await rights.next();
      }
    }
  } finally {
    await Promise.all([lefts.return?.(), rights.return?.()]);
  }
}
