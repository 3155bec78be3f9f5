/**
 * A side's hash covers the fields Ferry writes, not the archive column; an archived row's hash
 * carries this mark, so archiving or reactivating a record alone is a change a Full run sees and
 * its pair's category follows (seed 003). Whether the record's content changed compares hashes
 * without the mark, so reactivating never counts as an edit of the record's fields.
 */
const ARCHIVED = '+archived';

export function sideHash(hash: string, archived: boolean): string {
  return archived ? hash + ARCHIVED : hash;
}

export function contentHash(hash: string | null | undefined): string | null {
  if (hash === null || hash === undefined) return null;
  return hash.endsWith(ARCHIVED) ? hash.slice(0, -ARCHIVED.length) : hash;
}
