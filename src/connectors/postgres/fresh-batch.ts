import type { FreshBatch } from '../../engine/connector.js';
import type { CopyData } from '../../util/copy-text.js';
import { parseLine } from '../../util/copy-out.js';
import type { FreshRowWriter } from './stored-hash.js';

/** Rows whose digests make one string (64 KiB). */
const DIGEST_SEGMENT_BITS = 11;

/**
 * Row `position`'s digest of `count` rows' digests side by side (32 hex digits each, from `32 * position`):
 * a slice of a string made of the digests of its 2,048 rows, kept in `texts` for the rows after it.
 * No string per row is made from bytes; one string for all rows would be allocated in V8's
 * large-object space past 128 KiB, page by fresh page (~0.5 ms per 5,000 rows).
 */
export function digestAt(digests: Buffer, count: number, texts: string[], position: number): string {
  const segment = position >> DIGEST_SEGMENT_BITS;
  const first = segment << DIGEST_SEGMENT_BITS;
  const text = (texts[segment] ??= digests.toString('latin1', 32 * first, 32 * Math.min(count, first + (1 << DIGEST_SEGMENT_BITS))));
  const at = 32 * (position - first);
  return text.slice(at, at + 32);
}

/**
 * Fresh rows as COPY text and stored hashes from the moment they are read (`TargetTable.freshBatches`):
 * a batch waiting to be written holds bytes outside the JS heap, not a values array and strings per
 * row that would outlive the young generation's collections. Each row's fields are written each
 * followed by a tab, so its key (drawn later) ends the line: the COPY names the key columns last.
 */
export class FreshCopyBatch implements FreshBatch {
  /** Row `p`'s fields are bytes `ends[p - 1]` (0 for the first) to `ends[p]` of `data`. */
  private ends: Int32Array;
  /** Row `p`'s stored hash as 32 hex digits from `32 * p`, when `known[p]`. */
  private digests: Buffer;
  /** `digestOf`'s strings, each of a segment's digests, made when first asked for. */
  private readonly digestTexts: string[] = [];
  private known: Uint8Array;
  private count = 0;

  constructor(
    private readonly writer: FreshRowWriter,
    readonly data: CopyData,
    rows: number,
  ) {
    this.ends = new Int32Array(rows);
    this.digests = Buffer.allocUnsafe(32 * rows);
    this.known = new Uint8Array(rows);
  }

  get size(): number {
    return this.count;
  }

  add(values: readonly (string | null)[], from = 0): number {
    const position = this.count;
    if (position === this.ends.length) this.grow();
    this.known[position] = this.writer.writeDigest(values, this.data, this.digests, 32 * position, false, from) ? 1 : 0;
    this.ends[position] = this.data.length;
    this.count++;
    return position;
  }

  values(position: number): (string | null)[] {
    const start = this.start(position);
    const end = this.ends[position]!;
    // No field: no bytes. Else the fields, each followed by a tab (the last one's is not theirs).
    return end === start ? [] : parseLine(this.data.buffer.toString('utf8', start, end - 1));
  }

  start(position: number): number {
    return position === 0 ? 0 : this.ends[position - 1]!;
  }

  end(position: number): number {
    return this.ends[position]!;
  }

  /** The digest of the row at `position`, 32 hex digits (`digestAt`). */
  digestOf(position: number): string {
    return digestAt(this.digests, this.count, this.digestTexts, position);
  }

  isKnown(position: number): boolean {
    return this.known[position] === 1;
  }

  /** Empties the batch for new rows (its buffers are kept: a batch is reused rather than allocated anew). */
  reset(): void {
    this.count = 0;
    this.digestTexts.length = 0;
    this.data.clear();
  }

  private grow(): void {
    const rows = Math.max(16, 2 * this.ends.length);
    const ends = new Int32Array(rows);
    ends.set(this.ends);
    const digests = Buffer.allocUnsafe(32 * rows);
    this.digests.copy(digests);
    const known = new Uint8Array(rows);
    known.set(this.known);
    this.ends = ends;
    this.digests = digests;
    this.known = known;
  }
}
