import type { Row } from './connector.js';
import type { KeyCodec } from './keys.js';

// Whole numbers short enough to be exact in a double. Leading zeros are the same key as without them,
// as in encodeInteger, up to its 19 digits for non-negative numbers (longer text encodes apart).
const SAFE_INTEGER_TEXT = /^(-?)(0*)(\d{1,15})$/;
const ENCODED_DIGITS = 19;

function safeInteger(text: string): number | undefined {
  const match = SAFE_INTEGER_TEXT.exec(text);
  if (!match || (!match[1] && match[2].length + match[3].length > ENCODED_DIGITS)) return undefined;
  const value = Number(match[1] + match[3]);
  // '-0' encodes differently from '0' (see encodeInteger), so it is never the same key.
  return Object.is(value, -0) ? undefined : value;
}

/**
 * Plain single-integer key -> plain single-integer key, held as two sorted Float64Arrays: 16 bytes a
 * pair instead of ~100 for a Map of encoded strings, so a referenced entity of millions of rows can be
 * kept for a whole run instead of being queried once per batch.
 */
export class IntegerKeyMap {
  private constructor(
    private readonly from: Float64Array,
    private readonly to: Float64Array,
  ) {}

  /** Whether keys of these codecs fit: one integer part on each side. */
  static fits(from: KeyCodec, to: KeyCodec): boolean {
    return from.kinds.length === 1 && from.kinds[0] === 'integer' && to.kinds.length === 1 && to.kinds[0] === 'integer';
  }

  /**
   * Reads `[encoded from key, encoded to key]` rows; undefined when a key is not a safe integer (the
   * caller then keeps strings or asks per batch).
   */
  static async load(rows: AsyncIterable<Row>, from: KeyCodec, to: KeyCodec): Promise<IntegerKeyMap | undefined> {
    let keys: Float64Array = new Float64Array(1024);
    let values: Float64Array = new Float64Array(1024);
    let size = 0;
    let sorted = true;
    let fits = true;
    // Read to the end even when a key does not fit: a stream left half-read would hold its connection.
    for await (const row of rows) {
      if (!fits) continue;
      const key = safeInteger(from.decode(row[0]!)[0]);
      const value = safeInteger(to.decode(row[1]!)[0]);
      if (key === undefined || value === undefined) {
        fits = false;
        continue;
      }
      if (size === keys.length) {
        keys = grow(keys);
        values = grow(values);
      }
      if (size > 0 && key < keys[size - 1]) sorted = false;
      keys[size] = key;
      values[size] = value;
      size++;
    }
    if (!fits) return undefined;
    keys = keys.slice(0, size);
    values = values.slice(0, size);
    if (!sorted) {
      const order = new Uint32Array(size).map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
      keys = Float64Array.from(order, (i) => keys[i]);
      values = Float64Array.from(order, (i) => values[i]);
    }
    return new IntegerKeyMap(keys, values);
  }

  /** The plain key paired with this plain key, if any. */
  get(plain: string): string | undefined {
    const key = safeInteger(plain);
    if (key === undefined) return undefined;
    let low = 0;
    let high = this.from.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const probe = this.from[middle];
      if (probe === key) return String(this.to[middle]);
      if (probe < key) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}

function grow(array: Float64Array): Float64Array {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
