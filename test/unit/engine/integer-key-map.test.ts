import { describe, expect, it } from 'vitest';
import { IntegerKeyMap } from '../../../src/engine/integer-key-map.js';
import { KeyCodec } from '../../../src/engine/keys.js';
import type { Row } from '../../../src/engine/connector.js';

const integer = new KeyCodec(['integer']);
const text = new KeyCodec(['text']);

async function* rows(pairs: [string, string][]): AsyncGenerator<Row> {
  for (const [from, to] of pairs) yield [integer.encode([from])!, integer.encode([to])!];
}

describe('IntegerKeyMap', () => {
  it('finds every pair whatever order the pairs come in, and nothing else', async () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 5000; i++) pairs.push([String((i * 7919) % 5000 - 2500), String(100000001 + i)]);
    const map = (await IntegerKeyMap.load(rows(pairs), integer, integer))!;
    for (const [from, to] of pairs) expect(map.get(from)).toBe(to);
    expect(map.get('2500')).toBeUndefined();
    expect(map.get('12abc')).toBeUndefined();
    expect(map.get('')).toBeUndefined();
  });

  it('reads plain values the way the key encoding does: leading zeros are the same key, -0 and signs are not', async () => {
    const map = (await IntegerKeyMap.load(rows([['7', '70'], ['0', '1'], ['-7', '-70']]), integer, integer))!;
    for (const value of ['7', '007', '0000000000000000007', '00000000000000000007', '0', '000', '-7', '-007', '-000000000000000000007', '-0', '+7', ' 7', '7.0']) {
      const encoded = integer.encode([value])!;
      const expected = encoded === integer.encode(['7']) ? '70' : encoded === integer.encode(['0']) ? '1' : encoded === integer.encode(['-7']) ? '-70' : undefined;
      expect(map.get(value), value).toBe(expected);
    }
  });

  it('gives up (and still reads the stream to its end) on keys a double cannot hold exactly', async () => {
    let read = 0;
    async function* counted(): AsyncGenerator<Row> {
      for (const row of [['1', '2'], ['9223372036854775807', '3'], ['4', '5']] as [string, string][]) {
        read++;
        yield [integer.encode([row[0]])!, integer.encode([row[1]])!];
      }
    }
    expect(await IntegerKeyMap.load(counted(), integer, integer)).toBeUndefined();
    expect(read).toBe(3);
  });

  it('fits single integer keys on both sides only', () => {
    expect(IntegerKeyMap.fits(integer, integer)).toBe(true);
    expect(IntegerKeyMap.fits(integer, text)).toBe(false);
    expect(IntegerKeyMap.fits(new KeyCodec(['integer', 'integer']), integer)).toBe(false);
  });
});
