import { describe, expect, it } from 'vitest';
import { compareKeys, encodedIntegerCodes, encodeInteger, KeyCodec, readablePart } from '../../../src/engine/keys.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

describe('order-preserving key encoding', () => {
  it('round-trips integer and text parts, including negatives and composite keys', () => {
    const codec = new KeyCodec(['integer', 'text']);
    for (const parts of [['0', 'a'], ['-9223372036854775808', 'x y'], ['9223372036854775807', ''], ['-1', 'é']]) {
      expect(codec.decode(codec.encode(parts)!)).toEqual(parts);
    }
    expect(codec.encode(['1', null])).toBeUndefined();
  });

  it('encodes every length of a non-negative integer as p and 19 digits, one after another (the character codes are reused)', () => {
    const digits = ['', '0', '7', '42', '1000001', '9223372036854775807', '123456789012345678', '5'];
    for (const value of [...digits, ...Array.from({ length: 20 }, (_, n) => '9'.repeat(n))]) {
      expect(encodeInteger(value)).toBe('p' + value.padStart(19, '0'));
    }
    expect(encodeInteger('18446744073709551615')).toBe('q18446744073709551615');
    expect(encodeInteger('-1')).toBe('n9223372036854775807');
  });

  it("gives the character codes of a usual integer key's encoding, and none for a negative or a 20-digit one", () => {
    for (const value of ['0', '7', '42', '9223372036854775807', '1234567890123456789', '5', '']) {
      expect(String.fromCharCode(...encodedIntegerCodes(value)!), value).toBe(encodeInteger(value));
    }
    expect(encodedIntegerCodes('-1')).toBeUndefined();
    expect(encodedIntegerCodes('18446744073709551615')).toBeUndefined();
  });

  it('orders BIGINT UNSIGNED keys above 2^63 after every signed key, and keeps the encoding of keys already stored', () => {
    const codec = new KeyCodec(['integer']);
    const values = ['-5', '0', '42', '9223372036854775807', '9999999999999999999', '10000000000000000000', '18446744073709551615'];
    const encoded = values.map((v) => codec.encode([v])!);
    expect([...encoded].sort(compareKeys)).toEqual(encoded);
    expect(encoded.map((e) => codec.decode(e)[0])).toEqual(values);
    expect(codec.encode(['42'])).toBe('p0000000000000000042');
    expect(readablePart(codec.encode(['18446744073709551615'])!)).toBe('18446744073709551615');
  });

  it('sorts exactly like PostgreSQL sorts the key columns (the merge join depends on it)', async () => {
    const url = await freshDatabase('keys');
    const rows = await withClient(url, async (c) => {
      await c.query(`CREATE TABLE k (a bigint, b text)`);
      await c.query(`INSERT INTO k SELECT (ARRAY[-9223372036854775808, -5000, -1, 0, 1, 9, 10, 99, 100, 5000, 9223372036854775807])[1 + i % 11],
                                         (ARRAY['', 'a', 'A', 'b', 'ab', 'a b', 'Z', 'é', 'e', '€', '😀', 'a' || chr(1)])[1 + (i * 7) % 12]
                     FROM generate_series(0, 400) i`);
      return (await c.query({ text: `SELECT a::text, b FROM k ORDER BY k.a, k.b COLLATE "C"`, rowMode: 'array' })).rows as string[][];
    });
    const codec = new KeyCodec(['integer', 'text']);
    const encoded = rows.map((r) => codec.encode(r)!);
    const resorted = [...encoded].sort(compareKeys);
    expect(resorted).toEqual(encoded);
  });
});
