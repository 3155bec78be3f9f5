/** Groups an async stream into arrays of at most `size` items. */
export async function* inBatches<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The items of an async stream of arrays, one by one (the reverse of `inBatches`). */
export async function* flattened<T>(chunks: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const chunk of chunks) for (let i = 0; i < chunk.length; i++) yield chunk[i]!;
}

/**
 * The method of a stream whose items already come in arrays (a COPY's rows, parsed a socket chunk at
 * a time) that gives those arrays, the items not yet taken: a consumer that calls it instead of
 * `next` takes one async step per array, not per item. Stopping it early (`return`) ends the stream.
 */
export const IN_CHUNKS: unique symbol = Symbol('ferry.inChunks');

export interface ChunkedIterable<T> extends AsyncIterable<T> {
  [IN_CHUNKS](): AsyncIterable<T[]>;
}

/**
 * The items of any stream in arrays: the stream's own arrays when it has them (IN_CHUNKS), else
 * groups of at most `size` (a driver's row stream, a reader's generator). Arrays may be empty.
 */
export function chunksOf<T>(source: AsyncIterable<T>, size: number): AsyncIterable<T[]> {
  const own = (source as Partial<ChunkedIterable<T>>)[IN_CHUNKS];
  return typeof own === 'function' ? own.call(source) : inBatches(source, size);
}
