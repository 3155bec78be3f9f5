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
