import { describe, expect, it } from 'vitest';
import { ownCopies, ownCopy, ownRecordStrings } from '../../../src/util/own-strings.js';
import { heapAfterGc } from '../../helpers/heap.js';

/** A chunk of ~600 KB of text, like a file reader's, and a record of values cut out of it (one long, one short, one null; the hash too). */
function recordFromChunk(n: number) {
  const chunk = Array.from({ length: 20_000 }, (_, i) => `person-${n}-${i}@example.org`).join(',');
  const email = chunk.slice(30, 60);
  return { key: email, keyParts: [email], cursor: chunk.slice(0, 20), hash: chunk.slice(100, 132), values: [email, chunk.slice(5, 8), null] as (string | null)[], matchValues: [email] as (string | null)[] };
}

describe('own strings', () => {
  it('copies are equal to the values, multi-byte and lone surrogates included', () => {
    const text = 'xxü✓\uD800-a-much-longer-value-than-thirteen-characters\uDC00yy';
    expect(ownCopy(text.slice(2, -2))).toBe(text.slice(2, -2));
    expect(ownCopy('')).toBe('');
    expect(ownCopies([text.slice(1, 3), null, undefined, text])).toEqual([text.slice(1, 3), null, undefined, text]);
  });

  it('a record kept from each of many chunks holds its values, not the chunks they were cut from', () => {
    const before = heapAfterGc();
    const kept = Array.from({ length: 50 }, (_, n) => ownRecordStrings(recordFromChunk(n)));
    const held = heapAfterGc() - before;
    expect(kept[7]).toEqual(recordFromChunk(7));
    // 50 chunks of ~600 KB: ~30 MB when the values are slices of them; their own copies take a few KB.
    expect(held).toBeLessThan(5 * 1024 * 1024);
  });

  it('(the case it guards against: the same records without copies hold the chunks)', () => {
    const before = heapAfterGc();
    const kept = Array.from({ length: 50 }, (_, n) => recordFromChunk(n));
    const held = heapAfterGc() - before;
    expect(kept).toHaveLength(50);
    expect(held).toBeGreaterThan(20 * 1024 * 1024);
  });
});
