/** What `DenseKeyLines.add` answers for a key it holds no line for and has no room for. */
export const NO_ROOM = -1;

/** Bits of a slot that hold where a key's record starts (plus one); the other 7 hold bits of its hash. */
const OFFSET_BITS = 25;
const OFFSET_MASK = 2 ** OFFSET_BITS - 1;
/** The largest budget: a record's start plus one must fit in a slot's 25 bits. */
export const MAX_BUDGET = 2 ** OFFSET_BITS - 1;
/** The greatest line a record holds (4 bytes). */
export const MAX_LINE = 0xffff_ffff;
/** Records are written in chunks of this many bytes at most (a chunk is never copied, so growing costs no peak). */
const MAX_CHUNK_BITS = 16;
/** The hash table grows by half when it is this full (linear probing stays short). */
const MAX_LOAD = 0.75;
const FIRST_SLOTS = 64;

/** FNV-1a's start and step, fed one byte at a time. */
const FNV_START = 0x811c9dc5;
const fnv = (hash: number, byte: number) => Math.imul(hash ^ byte, 0x01000193);

/** MurmurHash3's finalizer: spreads FNV's nearby results ('E1', 'E2', …) over all 32 bits. */
function mix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Each UTF-16 code unit of a key is stored in one to three bytes, UTF-8's layout applied to every unit
 * (lone surrogates included), so different strings have different bytes. Answers the bytes of `key`,
 * and their FNV-1a hash (before `mix`) in `hashOut[0]`.
 */
function measure(key: string, hashOut: Uint32Array): number {
  let hash = FNV_START;
  let bytes = 0;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x80) {
      hash = fnv(hash, unit);
      bytes += 1;
    } else if (unit < 0x800) {
      hash = fnv(fnv(hash, 0xc0 | (unit >> 6)), 0x80 | (unit & 0x3f));
      bytes += 2;
    } else {
      hash = fnv(fnv(fnv(hash, 0xe0 | (unit >> 12)), 0x80 | ((unit >> 6) & 0x3f)), 0x80 | (unit & 0x3f));
      bytes += 3;
    }
  }
  hashOut[0] = hash;
  return bytes;
}

/** The slot a hash's probe starts at in a table of `length` slots: its low 25 bits scaled (exact in a double). */
const slotOf = (hash: number, length: number) => Math.floor(((hash & OFFSET_MASK) * length) / 2 ** OFFSET_BITS);

/** A chunk is at most a quarter of the budget, so that a small budget still holds several. */
const chunkBitsOf = (budgetBytes: number) => Math.min(MAX_CHUNK_BITS, Math.max(6, Math.floor(Math.log2(budgetBytes / 4))));

/** The 32-bit hash of a key (of its bytes as stored). */
export function keyHash(key: string): number {
  const out = new Uint32Array(1);
  measure(key, out);
  return mix(out[0]!);
}

/** Bytes of a record holding a key of `keyBytes` bytes: its length (2 bytes), the key, its line (4 bytes). */
export const recordBytes = (keyBytes: number) => 2 + keyBytes + 4;

/** The bytes of `key` as a record stores them (`measure`'s count, without the hash). */
export function keyByteLength(key: string): number {
  let bytes = key.length;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit >= 0x80) bytes += unit < 0x800 ? 1 : 2;
  }
  return bytes;
}

/**
 * Writes the record of `key` (of `keyBytes` bytes, `keyByteLength`) and `line` into `into` at `at`,
 * laid out as `DenseKeyLines` holds it (so `addRecord` takes it as it is); answers where it ends.
 */
export function writeRecord(key: string, keyBytes: number, line: number, into: Uint8Array, at: number): number {
  into[at++] = keyBytes >>> 8;
  into[at++] = keyBytes & 0xff;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x80) {
      into[at++] = unit;
    } else if (unit < 0x800) {
      into[at++] = 0xc0 | (unit >> 6);
      into[at++] = 0x80 | (unit & 0x3f);
    } else {
      into[at++] = 0xe0 | (unit >> 12);
      into[at++] = 0x80 | ((unit >> 6) & 0x3f);
      into[at++] = 0x80 | (unit & 0x3f);
    }
  }
  return writeLine(line, into, at);
}

/** Writes a record's line (4 bytes, most significant first) at `at`; answers where it ends. */
export function writeLine(line: number, into: Uint8Array, at: number): number {
  into[at++] = line >>> 24;
  into[at++] = (line >>> 16) & 0xff;
  into[at++] = (line >>> 8) & 0xff;
  into[at++] = line & 0xff;
  return at;
}

/** The line of the record whose key (of `keyBytes` bytes) starts at `at` (its length's first byte). */
export function readLine(from: Uint8Array, at: number, keyBytes: number): number {
  const end = at + 2 + keyBytes;
  return from[end]! * 2 ** 24 + ((from[end + 1]! << 16) | (from[end + 2]! << 8) | from[end + 3]!);
}

/**
 * Keys, each with the line it first came on, packed in byte arrays instead of a Map of strings. A key
 * is a record (length, bytes, line) appended to chunks of bytes, and an open-addressing hash table of
 * 32-bit slots says where each record starts, with 7 bits of its hash beside so that a probe seldom
 * reads a record. A key of n ASCII characters costs about n + 6 bytes, plus 5-8 bytes of table, and
 * no object for the garbage collector to trace. Chunks and table together never take more than
 * `budgetBytes`: a key that does not fit is refused, and from then on the set only answers lookups,
 * so a key is either here or was refused (the caller keeps the refused ones elsewhere).
 *
 * Comparison is exact: a hit on the hash bits is confirmed byte by byte.
 */
export class DenseKeyLines {
  private readonly chunkBits: number;
  private readonly chunks: Uint8Array[] = [];
  /** Bytes in use of each chunk (a record never spans two; the next one starts a new chunk). */
  private readonly ends: number[] = [];
  /** Per slot, (7 bits of the hash << 25) | (where the record starts + 1); 0 for an empty slot. */
  private slots = new Uint32Array(FIRST_SLOTS);
  private count = 0;
  private refused = false;
  private readonly hashOut = new Uint32Array(1);

  /**
   * `finish` makes a key's 32-bit hash of its bytes' FNV-1a hash; a test may give one that makes every
   * hash the same.
   */
  constructor(
    private readonly budgetBytes: number,
    private readonly finish: (fnv: number) => number = mix,
  ) {
    if (!(budgetBytes <= MAX_BUDGET)) throw new Error(`a budget of at most ${MAX_BUDGET} bytes`);
    this.chunkBits = chunkBitsOf(budgetBytes);
  }

  /**
   * Whether a set of `budgetBytes` surely holds `keys` records of `bytes` bytes in all (`recordBytes`
   * each, none longer than `longestRecord`): every chunk may leave the room of one record unused.
   */
  static holds(budgetBytes: number, keys: number, bytes: number, longestRecord: number): boolean {
    const chunkBytes = 2 ** chunkBitsOf(budgetBytes);
    if (longestRecord > chunkBytes) return false;
    let slots = FIRST_SLOTS;
    while (keys + 1 > slots * MAX_LOAD) slots = Math.floor(slots * 1.5);
    const chunks = Math.ceil(bytes / (chunkBytes - longestRecord + 1));
    return chunks * chunkBytes + slots * 4 <= budgetBytes;
  }

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** Whether a key was refused: then no key is added any more. */
  get closed(): boolean {
    return this.refused;
  }

  /** Bytes the keys held need: their records, and a table as full as it may be (it grows in steps). */
  get usedBytes(): number {
    let bytes = 4 * Math.ceil(this.count / MAX_LOAD);
    for (const end of this.ends) bytes += end;
    return bytes;
  }

  /** Bytes the arrays take. */
  get byteLength(): number {
    return this.chunks.length * 2 ** this.chunkBits + this.slots.byteLength;
  }

  /**
   * The line `key` first came on, if it is held; otherwise adds it with `line` (a whole number from
   * 1 to 2^32 - 1) and answers 0, or answers NO_ROOM when it does not fit in the budget.
   */
  add(key: string, line: number): number {
    const keyBytes = measure(key, this.hashOut);
    const hash = this.finish(this.hashOut[0]!) >>> 0;
    const tag = hash >>> OFFSET_BITS;
    let slot = slotOf(hash, this.slots.length);
    for (let held = this.slots[slot]!; held !== 0; held = this.slots[slot]!) {
      if (held >>> OFFSET_BITS === tag) {
        const start = (held & OFFSET_MASK) - 1;
        if (this.holdsAt(start, key, keyBytes)) return this.lineAt(start, keyBytes);
      }
      if (++slot === this.slots.length) slot = 0;
    }
    if (this.refused || !Number.isInteger(line) || line < 1 || line > MAX_LINE || !this.makeRoom(keyBytes)) {
      this.refused = true;
      return NO_ROOM;
    }
    const start = this.append(key, keyBytes, line);
    this.count++;
    if (this.count > this.slots.length * MAX_LOAD) this.rehash(Math.floor(this.slots.length * 1.5));
    else this.place(this.slots, hash, start);
    return 0;
  }

  /**
   * `add` for a key given as its record (`writeRecord`'s layout) in `from` at `at`: the line the key
   * first came on, or 0 when the record is added (copied as it is), or NO_ROOM.
   */
  addRecord(from: Uint8Array, at: number): number {
    const keyBytes = (from[at]! << 8) | from[at + 1]!;
    let fnvHash = FNV_START;
    for (let i = at + 2; i < at + 2 + keyBytes; i++) fnvHash = fnv(fnvHash, from[i]!);
    const hash = this.finish(fnvHash) >>> 0;
    const tag = hash >>> OFFSET_BITS;
    let slot = slotOf(hash, this.slots.length);
    for (let held = this.slots[slot]!; held !== 0; held = this.slots[slot]!) {
      if (held >>> OFFSET_BITS === tag) {
        const start = (held & OFFSET_MASK) - 1;
        if (this.holdsBytesAt(start, from, at, keyBytes)) return this.lineAt(start, keyBytes);
      }
      if (++slot === this.slots.length) slot = 0;
    }
    const line = readLine(from, at, keyBytes);
    if (this.refused || line < 1 || !this.makeRoom(keyBytes)) {
      this.refused = true;
      return NO_ROOM;
    }
    const last = this.chunks.length - 1;
    const start = (last << this.chunkBits) + this.ends[last]!;
    const bytes = recordBytes(keyBytes);
    this.chunks[last]!.set(from.subarray(at, at + bytes), this.ends[last]!);
    this.ends[last]! += bytes;
    this.count++;
    if (this.count > this.slots.length * MAX_LOAD) this.rehash(Math.floor(this.slots.length * 1.5));
    else this.place(this.slots, hash, start);
    return 0;
  }

  /** Whether the record starting at `start` holds the `keyBytes` key bytes of the record at `at` in `from`. */
  private holdsBytesAt(start: number, from: Uint8Array, at: number, keyBytes: number): boolean {
    const chunk = this.chunks[start >>> this.chunkBits]!;
    const held = start & (2 ** this.chunkBits - 1);
    if (((chunk[held]! << 8) | chunk[held + 1]!) !== keyBytes) return false;
    for (let i = 2; i < 2 + keyBytes; i++) if (chunk[held + i] !== from[at + i]) return false;
    return true;
  }

  /** Puts the record starting at `start` in the first free slot of its probe in `slots`. */
  private place(slots: Uint32Array, hash: number, start: number): void {
    let slot = slotOf(hash, slots.length);
    while (slots[slot] !== 0) if (++slot === slots.length) slot = 0;
    slots[slot] = (((hash >>> OFFSET_BITS) << OFFSET_BITS) | (start + 1)) >>> 0;
  }

  /**
   * Whether there is room for a record of a `keyBytes`-byte key (and for the table, should it grow
   * with it) within the budget; takes a new chunk when the last one is full.
   */
  private makeRoom(keyBytes: number): boolean {
    const chunkBytes = 2 ** this.chunkBits;
    const bytes = recordBytes(keyBytes);
    if (bytes > chunkBytes) return false;
    const last = this.chunks.length - 1;
    const newChunk = last < 0 || this.ends[last]! + bytes > chunkBytes;
    const chunksBytes = (this.chunks.length + (newChunk ? 1 : 0)) * chunkBytes;
    const slotsBytes = (this.count + 1 > this.slots.length * MAX_LOAD ? Math.floor(this.slots.length * 1.5) : this.slots.length) * 4;
    if (chunksBytes + slotsBytes > this.budgetBytes) return false;
    if (newChunk) {
      this.chunks.push(new Uint8Array(chunkBytes));
      this.ends.push(0);
    }
    return true;
  }

  /** Appends `key`'s record to the last chunk; answers where it starts (chunk number and place in it). */
  private append(key: string, keyBytes: number, line: number): number {
    const last = this.chunks.length - 1;
    const chunk = this.chunks[last]!;
    const at = this.ends[last]!;
    this.ends[last] = writeRecord(key, keyBytes, line, chunk, at);
    return (last << this.chunkBits) + at;
  }

  /** Whether the record starting at `start` holds `key` (of `keyBytes` bytes as `append` lays them). */
  private holdsAt(start: number, key: string, keyBytes: number): boolean {
    const chunk = this.chunks[start >>> this.chunkBits]!;
    let at = start & (2 ** this.chunkBits - 1);
    if (((chunk[at]! << 8) | chunk[at + 1]!) !== keyBytes) return false;
    at += 2;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      if (unit < 0x80) {
        if (chunk[at++] !== unit) return false;
      } else if (unit < 0x800) {
        if (chunk[at++] !== (0xc0 | (unit >> 6)) || chunk[at++] !== (0x80 | (unit & 0x3f))) return false;
      } else if (chunk[at++] !== (0xe0 | (unit >> 12)) || chunk[at++] !== (0x80 | ((unit >> 6) & 0x3f)) || chunk[at++] !== (0x80 | (unit & 0x3f))) {
        return false;
      }
    }
    return true;
  }

  /** The line in the record starting at `start`, whose key has `keyBytes` bytes. */
  private lineAt(start: number, keyBytes: number): number {
    return readLine(this.chunks[start >>> this.chunkBits]!, start & (2 ** this.chunkBits - 1), keyBytes);
  }

  /** A table of `length` slots for the records held, their hashes computed again from their bytes. */
  private rehash(length: number): void {
    const slots = new Uint32Array(length);
    this.chunks.forEach((chunk, number) => {
      for (let at = 0; at < this.ends[number]!; ) {
        const keyBytes = (chunk[at]! << 8) | chunk[at + 1]!;
        let hash = FNV_START;
        for (let i = at + 2; i < at + 2 + keyBytes; i++) hash = fnv(hash, chunk[i]!);
        this.place(slots, this.finish(hash) >>> 0, (number << this.chunkBits) + at);
        at += recordBytes(keyBytes);
      }
    });
    this.slots = slots;
  }
}
