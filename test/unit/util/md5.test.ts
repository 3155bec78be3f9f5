import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5Text } from '../../../src/util/md5.js';

/** xorshift32: a random source whose every bit is random (see copy-text.test.ts). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function hashed(text: Md5Text, bytes: Buffer): string {
  text.room(0, bytes.length);
  bytes.copy(text.bytes);
  return text.hex(bytes.length);
}

describe('Md5Text', () => {
  it('gives the MD5 of known texts', () => {
    const text = new Md5Text(8);
    expect(hashed(text, Buffer.from(''))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(hashed(text, Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe('9e107d9d372bb6826bd81d3542a419d6');
    expect(hashed(text, Buffer.from('(1,"a b",2123.50)'))).toBe(hash('md5', '(1,"a b",2123.50)'));
  });

  it("equals Node's md5 at every length around the block boundaries and on random bytes", () => {
    const next = random(0x9e3779b9);
    // Small at first, so the buffer grows while texts are hashed.
    const text = new Md5Text(4);
    for (let length = 0; length < 300; length++) {
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
      expect(hashed(text, bytes), `length ${length}`).toBe(hash('md5', bytes));
    }
    for (const length of [1000, 4095, 4096, 65_536, 100_003]) {
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
      expect(hashed(text, bytes), `length ${length}`).toBe(hash('md5', bytes));
    }
  });

  it('puts the same hex digits into another buffer, at any offset', () => {
    const text = new Md5Text(16);
    const out = Buffer.alloc(100, 0x2e);
    const bytes = Buffer.from('(7,"a b",x)');
    bytes.copy(text.bytes);
    text.hexInto(bytes.length, out, 33);
    expect(out.toString('latin1', 33, 65)).toBe(hash('md5', bytes));
    expect(out.toString('latin1', 0, 33)).toBe('.'.repeat(33));
    expect(out.toString('latin1', 65)).toBe('.'.repeat(35));
  });

  it('keeps the bytes written before it grows', () => {
    const text = new Md5Text(4);
    text.bytes.write('abc', 0, 'latin1');
    text.room(3, 5000);
    text.bytes.write('def', 3, 'latin1');
    expect(text.hex(6)).toBe(hash('md5', 'abcdef'));
  });
});
