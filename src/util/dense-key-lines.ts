/** What `DenseKeyLines.add` answers for a key it holds no line for and has no room for. */
export const NO_ROOM = -1;

/** The greatest line a key's entry holds (a Uint32Array cell). */
const MAX_LINE = 0xffff_ffff;
/** Per key in `entries`: where its bytes start, the line it first came on, its hash. */
const STRIDE = 3;
/** Slots filled at most this share of the hash table before it doubles (linear probing stays short). */
const MAX_LOAD = 0.75;

/**
 * The 32-bit hash of a key, from its UTF-16 code units: FNV-1a, then MurmurHash3's finalizer so
 * that nearby keys ('E1', 'E2', …) spread over the whole table.
 */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Keys, each with the line it first came on, packed in typed arrays instead of a Map of strings: the
 * keys' bytes one after the other in one byte array, per key three 32-bit numbers (start, line,
 * hash), and an open-addressing hash table of key numbers. A key of n ASCII characters costs about
 * n + 20 bytes and no object for the garbage collector to trace. All arrays together never exceed
 * `budgetBytes`: a key that does not fit is refused, and from then on the set only answers lookups,
 * so a key is either here or was refused (the caller keeps the refused ones elsewhere).
 *
 * Comparison is exact: a hash hit is confirmed byte by byte. Each UTF-16 code unit is stored in one
 * to three bytes (UTF-8's layout applied to every unit, lone surrogates included), which maps
 * different strings to different bytes.
 */
export class DenseKeyLines {
  private bytes = new Uint8Array(1024);
  /** Bytes of `bytes` in use. */
  private used = 0;
  private entries = new Uint32Array(64 * STRIDE);
  private count = 0;
  /** Per slot, the number of the key it holds plus one; 0 for an empty slot. */
  private slots = new Int32Array(128);
  private refused = false;

  constructor(private readonly budgetBytes: number) {}

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** Whether a key was refused: then no key is added any more. */
  get closed(): boolean {
    return this.refused;
  }

  /** Bytes the arrays take. */
  get byteLength(): number {
    return this.bytes.byteLength + this.entries.byteLength + this.slots.byteLength;
  }

  /**
   * The line `key` first came on, if it is held; otherwise adds it with `line` (a whole number from
   * 1 to 2^32 - 1) and answers 0, or answers NO_ROOM when it does not fit in the budget.
   */
  add(key: string, line: number): number {
    const hash = keyHash(key);
    let mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let held = this.slots[slot]!; held !== 0; held = this.slots[slot]!) {
      const entry = (held - 1) * STRIDE;
      if (this.entries[entry + 2] === hash && this.holdsAt(held - 1, key)) return this.entries[entry + 1]!;
      slot = (slot + 1) & mask;
    }
    if (this.refused || !Number.isInteger(line) || line < 1 || line > MAX_LINE || !this.makeRoom(key.length * 3)) {
      this.refused = true;
      return NO_ROOM;
    }
    if (mask !== this.slots.length - 1) {
      // The table grew: find the key's empty slot in the new one.
      mask = this.slots.length - 1;
      slot = hash & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    }
    const entry = this.count * STRIDE;
    this.entries[entry] = this.used;
    this.entries[entry + 1] = line;
    this.entries[entry + 2] = hash;
    this.used = this.write(key, this.used);
    this.slots[slot] = ++this.count;
    return 0;
  }

  /** Writes `key`'s bytes from `at` on; returns where they end. */
  private write(key: string, at: number): number {
    const bytes = this.bytes;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      if (unit < 0x80) {
        bytes[at++] = unit;
      } else if (unit < 0x800) {
        bytes[at++] = 0xc0 | (unit >> 6);
        bytes[at++] = 0x80 | (unit & 0x3f);
      } else {
        bytes[at++] = 0xe0 | (unit >> 12);
        bytes[at++] = 0x80 | ((unit >> 6) & 0x3f);
        bytes[at++] = 0x80 | (unit & 0x3f);
      }
    }
    return at;
  }

  /** Whether key number `index` is `key`: its bytes compared with `key`'s as `write` lays them. */
  private holdsAt(index: number, key: string): boolean {
    const bytes = this.bytes;
    let at = this.entries[index * STRIDE]!;
    const end = index + 1 < this.count ? this.entries[(index + 1) * STRIDE]! : this.used;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      if (unit < 0x80) {
        if (bytes[at++] !== unit) return false;
      } else if (unit < 0x800) {
        if (bytes[at++] !== (0xc0 | (unit >> 6)) || bytes[at++] !== (0x80 | (unit & 0x3f))) return false;
      } else if (bytes[at++] !== (0xe0 | (unit >> 12)) || bytes[at++] !== (0x80 | ((unit >> 6) & 0x3f)) || bytes[at++] !== (0x80 | (unit & 0x3f))) {
        return false;
      }
    }
    return at === end;
  }

  /** Grows the arrays for one more key of up to `keyBytes` bytes; false when that would pass the budget. */
  private makeRoom(keyBytes: number): boolean {
    let bytesLength = this.bytes.length;
    while (this.used + keyBytes > bytesLength) bytesLength *= 2;
    const entriesLength = (this.count + 1) * STRIDE > this.entries.length ? this.entries.length * 2 : this.entries.length;
    const slotsLength = this.count + 1 > this.slots.length * MAX_LOAD ? this.slots.length * 2 : this.slots.length;
    if (bytesLength + entriesLength * 4 + slotsLength * 4 > this.budgetBytes) return false;
    if (bytesLength !== this.bytes.length) {
      const bytes = new Uint8Array(bytesLength);
      bytes.set(this.bytes.subarray(0, this.used));
      this.bytes = bytes;
    }
    if (entriesLength !== this.entries.length) {
      const entries = new Uint32Array(entriesLength);
      entries.set(this.entries.subarray(0, this.count * STRIDE));
      this.entries = entries;
    }
    if (slotsLength !== this.slots.length) this.rehash(slotsLength);
    return true;
  }

  /** A table of `length` slots (a power of two) for the keys held, placed by their stored hashes. */
  private rehash(length: number): void {
    const slots = new Int32Array(length);
    const mask = length - 1;
    for (let index = 0; index < this.count; index++) {
      let slot = this.entries[index * STRIDE + 2]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}
