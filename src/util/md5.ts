import { hash } from 'node:crypto';

/** The words of a block are read in the machine's byte order, which MD5's must be (little-endian); Node's `hash` otherwise. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes after the text that `hex` overwrites at most: MD5's padding (0x80, up to 63 zeros, the 8-byte length), then the 32 hex digits. */
const PADDING = 72 + 32;

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * A growable byte buffer whose content is hashed with MD5 in JavaScript, as 32 hex digits. For many
 * short texts (a row's text, ~100 bytes) this costs about half of Node's `hash('md5', ...)`, whose
 * per-call cost (a Buffer view, a native call, a digest context) outweighs the compression itself,
 * and it allocates nothing but the hex string (nothing at all with `hexInto`). The text is padded in
 * place, after its end.
 */
export class Md5Text {
  /** The text's bytes from offset 0 (write them, then call `hex` with their length). */
  bytes!: Buffer;
  private words!: Int32Array;
  private readonly state = new Int32Array(4);

  constructor(size = 1024) {
    this.allocate(size);
  }

  /** Whether a text of `length` bytes fits without `room`. */
  fits(length: number): boolean {
    return length + PADDING <= this.bytes.length;
  }

  /** Makes room for `count` more bytes after the first `length`, keeping those. */
  room(length: number, count: number): void {
    if (this.fits(length + count)) return;
    const old = this.bytes;
    this.allocate(Math.max(length + count + PADDING, 2 * old.length));
    old.copy(this.bytes, 0, 0, length);
  }

  /** The MD5 of the first `length` bytes as 32 lower-case hex digits (the bytes after them are overwritten). */
  hex(length: number): string {
    if (!LITTLE_ENDIAN) return hash('md5', this.bytes.subarray(0, length));
    // The digits go after the padded text, and are read from there as a string.
    const end = this.digest(length);
    this.digits(this.bytes, end);
    return this.bytes.toString('latin1', end, end + 32);
  }

  /**
   * Puts the MD5 of the first `length` bytes as 32 lower-case hex digits at `at` of `out` (the bytes
   * after the text are overwritten): a batch's digests side by side make one string, not one each.
   */
  hexInto(length: number, out: Uint8Array, at: number): void {
    if (!LITTLE_ENDIAN) {
      out.set(Buffer.from(hash('md5', this.bytes.subarray(0, length)), 'latin1'), at);
      return;
    }
    this.digest(length);
    this.digits(out, at);
  }

  /** The last digest's 32 hex digits at `at` of `out`. */
  private digits(out: Uint8Array, at: number): void {
    for (let w = 0; w < 4; w++) {
      const v = this.state[w]!;
      for (let shift = 0; shift < 32; shift += 8) {
        const byte = (v >>> shift) & 0xff;
        out[at++] = HEX[byte >> 4]!;
        out[at++] = HEX[byte & 0xf]!;
      }
    }
  }

  /** Pads the first `length` bytes in place and compresses them into `state`; returns the padded length. */
  private digest(length: number): number {
    this.room(length, 0);
    const bytes = this.bytes;
    const blocks = ((length + 8) >>> 6) + 1;
    const end = blocks << 6;
    // 0x80, zeros up to the length (a few word stores: a native fill costs more than they do), the length in bits.
    bytes[length] = 0x80;
    let zero = length + 1;
    for (; zero & 3; zero++) bytes[zero] = 0;
    const words = this.words;
    for (let w = zero >> 2; w < (end >> 2) - 2; w++) words[w] = 0;
    words[(end >> 2) - 2] = length << 3;
    words[(end >> 2) - 1] = Math.floor(length / 0x20000000);
    compress(words, blocks, this.state);
    return end;
  }

  private allocate(size: number): void {
    // Its own ArrayBuffer (not a slice of Node's pool), so the word view starts on a word boundary.
    const buffer = new ArrayBuffer((size + 3) & ~3);
    this.bytes = Buffer.from(buffer);
    this.words = new Int32Array(buffer);
  }
}

/**
 * MD5's compression function (RFC 1321) over `blocks` 64-byte blocks of `x` (little-endian words);
 * the digest into `out`. Its 64 steps are written out (generated, not hand-typed): step i is
 * `t = a + F(b, c, d) + K[i] + x[g]; a = b + (t <<< s)` with the RFC's F, g, s per round and
 * K[i] = floor(|sin(i + 1)| * 2^32), the four variables rotating one place per step.
 */
function compress(x: Int32Array, blocks: number, out: Int32Array): void {
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let o = 0; o < blocks << 4; o += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    let t: number;
    const x0 = x[o]!, x1 = x[o + 1]!, x2 = x[o + 2]!, x3 = x[o + 3]!, x4 = x[o + 4]!, x5 = x[o + 5]!, x6 = x[o + 6]!, x7 = x[o + 7]!;
    const x8 = x[o + 8]!, x9 = x[o + 9]!, x10 = x[o + 10]!, x11 = x[o + 11]!, x12 = x[o + 12]!, x13 = x[o + 13]!, x14 = x[o + 14]!, x15 = x[o + 15]!;
      // Round 1
      t = (a + ((b & c) | (~b & d)) + -680876936 + x0) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + -389564586 + x1) | 0;
      d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + 606105819 + x2) | 0;
      c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + -1044525330 + x3) | 0;
      b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + -176418897 + x4) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + 1200080426 + x5) | 0;
      d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + -1473231341 + x6) | 0;
      c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + -45705983 + x7) | 0;
      b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + 1770035416 + x8) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + -1958414417 + x9) | 0;
      d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + -42063 + x10) | 0;
      c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + -1990404162 + x11) | 0;
      b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + 1804603682 + x12) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + -40341101 + x13) | 0;
      d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + -1502002290 + x14) | 0;
      c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + 1236535329 + x15) | 0;
      b = (c + ((t << 22) | (t >>> 10))) | 0;
      // Round 2
      t = (a + ((d & b) | (~d & c)) + -165796510 + x1) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + -1069501632 + x6) | 0;
      d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + 643717713 + x11) | 0;
      c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + -373897302 + x0) | 0;
      b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + -701558691 + x5) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + 38016083 + x10) | 0;
      d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + -660478335 + x15) | 0;
      c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + -405537848 + x4) | 0;
      b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + 568446438 + x9) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + -1019803690 + x14) | 0;
      d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + -187363961 + x3) | 0;
      c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + 1163531501 + x8) | 0;
      b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + -1444681467 + x13) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + -51403784 + x2) | 0;
      d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + 1735328473 + x7) | 0;
      c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + -1926607734 + x12) | 0;
      b = (c + ((t << 20) | (t >>> 12))) | 0;
      // Round 3
      t = (a + (b ^ c ^ d) + -378558 + x5) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + -2022574463 + x8) | 0;
      d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + 1839030562 + x11) | 0;
      c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + -35309556 + x14) | 0;
      b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + -1530992060 + x1) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + 1272893353 + x4) | 0;
      d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + -155497632 + x7) | 0;
      c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + -1094730640 + x10) | 0;
      b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + 681279174 + x13) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + -358537222 + x0) | 0;
      d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + -722521979 + x3) | 0;
      c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + 76029189 + x6) | 0;
      b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + -640364487 + x9) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + -421815835 + x12) | 0;
      d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + 530742520 + x15) | 0;
      c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + -995338651 + x2) | 0;
      b = (c + ((t << 23) | (t >>> 9))) | 0;
      // Round 4
      t = (a + (c ^ (b | ~d)) + -198630844 + x0) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + 1126891415 + x7) | 0;
      d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + -1416354905 + x14) | 0;
      c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + -57434055 + x5) | 0;
      b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + 1700485571 + x12) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + -1894986606 + x3) | 0;
      d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + -1051523 + x10) | 0;
      c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + -2054922799 + x1) | 0;
      b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + 1873313359 + x8) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + -30611744 + x15) | 0;
      d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + -1560198380 + x6) | 0;
      c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + 1309151649 + x13) | 0;
      b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + -145523070 + x4) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + -1120210379 + x11) | 0;
      d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + 718787259 + x2) | 0;
      c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + -343485551 + x9) | 0;
      b = (c + ((t << 21) | (t >>> 11))) | 0;
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  out[0] = a0;
  out[1] = b0;
  out[2] = c0;
  out[3] = d0;
}
