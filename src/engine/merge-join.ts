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

/**
 * Matches a chunk at a time, in parallel arrays (no object per match): `left[i]` with its partner
 * `right[i]`; either is undefined where that side has none, never both.
 */
export interface KeyMatchChunk<L, R> {
  left: readonly (L | undefined)[];
  right: readonly (R | undefined)[];
}

/**
 * mergeByKey for streams that come a chunk at a time (`chunksOf`), the matches a chunk at a time:
 * one async step per chunk of either side, not three per row, and each row's key made once. A chunk
 * of matches ends where a chunk of either side ends.
 */
export async function* mergeChunksByKey<L, R>(
  left: AsyncIterable<L[]>,
  right: AsyncIterable<R[]>,
  leftKey: (row: L) => string,
  rightKey: (row: R) => string,
): AsyncGenerator<KeyMatchChunk<L, R>> {
  const lefts = left[Symbol.asyncIterator]();
  const rights = right[Symbol.asyncIterator]();
  // A consumer that stops early (an error in a batch) must not leave either scan holding its connection.
  try {
    let ls = await nextRows(lefts);
    let rs = await nextRows(rights);
    let li = 0;
    let ri = 0;
    let lk = ls ? leftKey(ls[0]!) : '';
    let rk = rs ? rightKey(rs[0]!) : '';
    while (ls && rs) {
      const outLeft: (L | undefined)[] = [];
      const outRight: (R | undefined)[] = [];
      let leftEnded = false;
      let rightEnded = false;
      do {
        const order = compareKeys(lk, rk);
        if (order <= 0) {
          outLeft.push(ls[li]);
          if (++li < ls.length) lk = leftKey(ls[li]!);
          else leftEnded = true;
        } else outLeft.push(undefined);
        if (order >= 0) {
          outRight.push(rs[ri]);
          if (++ri < rs.length) rk = rightKey(rs[ri]!);
          else rightEnded = true;
        } else outRight.push(undefined);
      } while (!leftEnded && !rightEnded);
      yield { left: outLeft, right: outRight };
      if (leftEnded) {
        ls = await nextRows(lefts);
        li = 0;
        if (ls) lk = leftKey(ls[0]!);
      }
      if (rightEnded) {
        rs = await nextRows(rights);
        ri = 0;
        if (rs) rk = rightKey(rs[0]!);
      }
    }
    // One side ended, maybe mid-way through a chunk of the other: the rest of the other has no partners.
    for (; ls; ls = await nextRows(lefts), li = 0) {
      const rows = li === 0 ? ls : ls.slice(li);
      yield { left: rows, right: new Array<R | undefined>(rows.length) };
    }
    for (; rs; rs = await nextRows(rights), ri = 0) {
      const rows = ri === 0 ? rs : rs.slice(ri);
      yield { left: new Array<L | undefined>(rows.length), right: rows };
    }
  } finally {
    await Promise.all([lefts.return?.(), rights.return?.()]);
  }
}

/** The next chunk that has rows, or undefined at the end. */
async function nextRows<T>(chunks: AsyncIterator<T[]>): Promise<T[] | undefined> {
  for (;;) {
    const step = await chunks.next();
    if (step.done) return undefined;
    if (step.value.length > 0) return step.value;
  }
}
