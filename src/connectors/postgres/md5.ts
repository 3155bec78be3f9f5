/**
 * MD5 (RFC 1321) of bytes in a buffer, written as 32 hex digits into another buffer. For the stored
 * hashes of fresh rows: node:crypto's `hash` costs ~0.6-0.8 us a call for a row's ~75 bytes, most of
 * it the call itself (argument checks, a digest context per call, the hex string); this costs
 * ~0.4-0.5 us and needs no string or buffer view per row. Checked against node:crypto on random
 * input of every length (test/unit/connectors/postgres-md5.test.ts).
 */

const words = new Int32Array(16);
const state = new Int32Array(4);
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** One 64-byte block (in `words`, little-endian) into `h`; the rounds unrolled, their constants inline. */
function block(h: Int32Array): void {
  const w = words;
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!, w5 = w[5]!, w6 = w[6]!, w7 = w[7]!, w8 = w[8]!, w9 = w[9]!, w10 = w[10]!, w11 = w[11]!, w12 = w[12]!, w13 = w[13]!, w14 = w[14]!, w15 = w[15]!;
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!;
  // Round 1: F = (b & c) | (~b & d)
  a = (a + ((b & c) | (~b & d)) + -680876936 + w0) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + -389564586 + w1) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + 606105819 + w2) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + -1044525330 + w3) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + -176418897 + w4) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + 1200080426 + w5) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + -1473231341 + w6) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + -45705983 + w7) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + 1770035416 + w8) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + -1958414417 + w9) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + -42063 + w10) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + -1990404162 + w11) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + 1804603682 + w12) | 0; a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + -40341101 + w13) | 0; d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + -1502002290 + w14) | 0; c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + 1236535329 + w15) | 0; b = (((b << 22) | (b >>> 10)) + c) | 0;
  // Round 2: G = (d & b) | (~d & c)
  a = (a + ((d & b) | (~d & c)) + -165796510 + w1) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((c & a) | (~c & b)) + -1069501632 + w6) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((b & d) | (~b & a)) + 643717713 + w11) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((a & c) | (~a & d)) + -373897302 + w0) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((d & b) | (~d & c)) + -701558691 + w5) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((c & a) | (~c & b)) + 38016083 + w10) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((b & d) | (~b & a)) + -660478335 + w15) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((a & c) | (~a & d)) + -405537848 + w4) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((d & b) | (~d & c)) + 568446438 + w9) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((c & a) | (~c & b)) + -1019803690 + w14) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((b & d) | (~b & a)) + -187363961 + w3) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((a & c) | (~a & d)) + 1163531501 + w8) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((d & b) | (~d & c)) + -1444681467 + w13) | 0; a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((c & a) | (~c & b)) + -51403784 + w2) | 0; d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((b & d) | (~b & a)) + 1735328473 + w7) | 0; c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((a & c) | (~a & d)) + -1926607734 + w12) | 0; b = (((b << 20) | (b >>> 12)) + c) | 0;
  // Round 3: H = b ^ c ^ d
  a = (a + (b ^ c ^ d) + -378558 + w5) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + -2022574463 + w8) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + 1839030562 + w11) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + -35309556 + w14) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + -1530992060 + w1) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + 1272893353 + w4) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + -155497632 + w7) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + -1094730640 + w10) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + 681279174 + w13) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + -358537222 + w0) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + -722521979 + w3) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + 76029189 + w6) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + -640364487 + w9) | 0; a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + -421815835 + w12) | 0; d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + 530742520 + w15) | 0; c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + -995338651 + w2) | 0; b = (((b << 23) | (b >>> 9)) + c) | 0;
  // Round 4: I = c ^ (b | ~d)
  a = (a + (c ^ (b | ~d)) + -198630844 + w0) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + 1126891415 + w7) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + -1416354905 + w14) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + -57434055 + w5) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + 1700485571 + w12) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + -1894986606 + w3) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + -1051523 + w10) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + -2054922799 + w1) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + 1873313359 + w8) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + -30611744 + w15) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + -1560198380 + w6) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + 1309151649 + w13) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + -145523070 + w4) | 0; a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + -1120210379 + w11) | 0; d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + 718787259 + w2) | 0; c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + -343485551 + w9) | 0; b = (((b << 21) | (b >>> 11)) + c) | 0;
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
}

/** Writes the MD5 of `src[start, end)` as 32 lower-case hex digits into `out` at `at`. */
export function md5Hex(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
  const h = state;
  h[0] = 0x67452301;
  h[1] = 0xefcdab89 | 0;
  h[2] = 0x98badcfe | 0;
  h[3] = 0x10325476;
  const w = words;
  let p = start;
  for (; p + 64 <= end; p += 64) {
    for (let j = 0, q = p; j < 16; j++, q += 4) w[j] = src[q]! | (src[q + 1]! << 8) | (src[q + 2]! << 16) | (src[q + 3]! << 24);
    block(h);
  }
  // The last block or two: the remaining bytes, 0x80, zeros, then the length in bits (64-bit little-endian).
  const rest = end - p;
  w.fill(0);
  for (let j = 0; j < rest; j++) w[j >> 2]! |= src[p + j]! << ((j & 3) << 3);
  w[rest >> 2]! |= 0x80 << ((rest & 3) << 3);
  if (rest >= 56) {
    block(h);
    w.fill(0);
  }
  const bits = (end - start) * 8;
  w[14] = bits | 0;
  w[15] = Math.floor(bits / 0x100000000) | 0;
  block(h);
  for (let k = 0; k < 4; k++) {
    const v = h[k]!;
    for (let shift = 0; shift < 32; shift += 8) {
      const byte = (v >>> shift) & 0xff;
      out[at++] = HEX[byte >>> 4]!;
      out[at++] = HEX[byte & 0x0f]!;
    }
  }
}
