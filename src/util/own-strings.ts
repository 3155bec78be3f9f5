/**
 * Strings that keep no other string alive. V8 makes a slice (or a `split` part) of 13 characters or
 * more a view into the string it was cut from, so a value cut out of a chunk of text read from a file
 * keeps that whole chunk in memory for as long as the value is kept. That costs nothing while rows
 * stream through; it does when a few rows are kept from each of many chunks (the changed rows of a
 * mostly unchanged file, held until their batch is full): then they keep nearly all the text read.
 */

/**
 * A string equal to `value` and holding only its own characters: the concatenation is a new string,
 * which the slice flattens into a copy (a short result is copied outright).
 */
export function ownCopy(value: string): string {
  return (' ' + value).slice(1);
}

/** Replaces each string of `values` by its own copy, in place; returns `values`. */
export function ownCopies<T extends string | null | undefined>(values: T[]): T[] {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'string') values[i] = ownCopy(value) as T;
  }
  return values;
}

/** The strings of a record read from a source (its key, key parts, cursor, hash and values), each replaced by its own copy, in place. */
export function ownRecordStrings<R extends { key?: string; keyParts: (string | null)[]; cursor: string | null; hash?: string; values?: (string | null)[]; matchValues?: (string | null)[] }>(record: R): R {
  if (record.key !== undefined) record.key = ownCopy(record.key);
  ownCopies(record.keyParts);
  if (record.cursor !== null) record.cursor = ownCopy(record.cursor);
  // A database source's hash is a field of the row's COPY line: a slice that keeps the whole line.
  if (record.hash !== undefined) record.hash = ownCopy(record.hash);
  if (record.values) ownCopies(record.values);
  if (record.matchValues) ownCopies(record.matchValues);
  return record;
}
