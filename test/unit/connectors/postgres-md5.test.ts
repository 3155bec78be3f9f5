import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5Hex } from '../../../src/connectors/postgres/md5.js';

describe('md5Hex', () => {
  it('is node:crypto’s MD5 for every length up to a few blocks and for random input, wherever it lies in the buffers', () => {
    let seed = 9;
    // xorshift32: every bit varies (a multiplicative step in doubles loses the low bits).
    const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), seed >>> 0);
    const out = Buffer.alloc(64);
    for (let n = 0; n < 20_000; n++) {
      // Every length 0..300 first (each padding case: 55, 56, 63, 64 ... bytes), then random ones.
      const length = n <= 300 ? n : next() % 2000;
      const offset = next() % 7;
      const bytes = Buffer.alloc(offset + length + 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      const at = next() % 32;
      md5Hex(bytes, offset, offset + length, out, at);
      expect(out.toString('latin1', at, at + 32), `length ${length}`).toBe(hash('md5', bytes.subarray(offset, offset + length), 'hex'));
    }
  });

  it('gives the RFC 1321 test suite’s digests', () => {
    const out = Buffer.alloc(32);
    const cases: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [text, digest] of cases) {
      md5Hex(Buffer.from(text), 0, text.length, out, 0);
      expect(out.toString('latin1')).toBe(digest);
    }
  });
});
