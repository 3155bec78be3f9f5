import { describe, expect, it } from 'vitest';
import { encodedIntegerCodes, encodeInteger } from '../../../src/engine/keys.js';
import { NewPairs, NewPairSources } from '../../../src/store/pairs.js';
import { CopyData } from '../../../src/util/copy-text.js';

describe('NewPairs', () => {
  it('builds COPY text lines of scope, the source key, hash and cursor, then the target key and hash: nulls as \\N, special characters escaped, growing past its first size', () => {
    const pairs = new NewPairs(42, 16);
    pairs.add('p1', 'p10', 'h1', 't1', null);
    pairs.add('tab\there', 'back\\slash', null, null, 'c\n2');
    pairs.add('Zürich', 'p11', 'h3', 't3', '7');
    expect(pairs.count).toBe(3);
    expect(pairs.toBuffer().toString('utf8')).toBe(
      '42\tp1\th1\t\\N\tp10\tt1\n' + '42\ttab\\there\t\\N\tc\\n2\tback\\\\slash\t\\N\n' + '42\tZürich\th3\t7\tp11\tt3\n',
    );
  });

  it('writes a target key given as the character codes of its encoding as the encoded key itself', () => {
    const byCodes = new NewPairs(3, 16);
    const byString = new NewPairs(3, 16);
    for (const key of ['1', '90', '12345678901234567', '9223372036854775807']) {
      byCodes.add(`s${key}`, encodedIntegerCodes(key)!, 'h', null, null);
      byString.add(`s${key}`, encodeInteger(key), 'h', null, null);
    }
    expect(byCodes.toBuffer().toString('latin1')).toBe(byString.toBuffer().toString('latin1'));
    expect(byCodes.toBuffer().toString('latin1')).toContain('3\ts1\th\t\\N\tp0000000000000000001\t\\N\n3\ts90\th\t\\N\tp0000000000000000090\t');
  });

  it('holds nothing when no pair was added', () => {
    const pairs = new NewPairs(1);
    expect(pairs.count).toBe(0);
    expect(pairs.toBuffer().length).toBe(0);
  });

  it('writes into a buffer it is given from its start, and refuses pairs once it gave its buffer up', () => {
    const used = new CopyData(undefined, 16);
    used.field('left over from an earlier batch', true);
    const pairs = new NewPairs(5, used);
    pairs.add('s', 't', null, null, null);
    expect(pairs.toBuffer().toString('utf8')).toBe('5\ts\t\\N\t\\N\tt\t\\N\n');
    expect(pairs.release()).toBe(used);
    expect(() => pairs.add('s2', 't2', null, null, null)).toThrow(/already written/);
    expect(() => pairs.toBuffer()).toThrow(/already written/);
    expect(pairs.count).toBe(1);
  });
});

describe('NewPairSources', () => {
  const rows: [string, string | null, string | null][] = [
    ['p1', 'h1', null],
    ['tab\there', null, 'c\n2'],
    ['Zürich', 'h3', '7'],
  ];

  it('gives NewPairs.addFrom the same lines as NewPairs.add, and reads each row\'s hash and cursor back', () => {
    const spares: NewPairSources[] = [];
    const sources = new NewPairSources(spares, 8, 1);
    const positions = rows.map(([key, hash, cursor]) => sources.add(key, hash, cursor));
    expect(positions).toEqual([0, 1, 2]);
    const spliced = new NewPairs(42, 16);
    const direct = new NewPairs(42, 16);
    // Out of order, as a batch whose rows were not all written would add them.
    for (const i of [2, 0]) {
      spliced.addFrom(sources, positions[i]!, `t${i}`, i === 0 ? null : `th${i}`);
      direct.add(rows[i]![0], `t${i}`, rows[i]![1], i === 0 ? null : `th${i}`, rows[i]![2]);
    }
    spliced.addFrom(sources, positions[1]!, encodedIntegerCodes('90')!, 'th1');
    direct.add(rows[1]![0], encodeInteger('90'), rows[1]![1], 'th1', rows[1]![2]);
    expect(spliced.count).toBe(3);
    expect(spliced.toBuffer().toString('utf8')).toBe(direct.toBuffer().toString('utf8'));
    rows.forEach(([, hash, cursor], i) => {
      expect(sources.hash(positions[i]!)).toBe(hash);
      expect(sources.cursor(positions[i]!)).toBe(cursor);
    });
  });

  it('goes back to its spares once released, refuses reads and adds until reused, and is empty when reused', () => {
    const spares: NewPairSources[] = [];
    const sources = new NewPairSources(spares, 8, 1);
    sources.add('s', 'h', 'c');
    sources.release();
    expect(spares).toEqual([sources]);
    expect(() => sources.hash(0)).toThrow(/already written/);
    expect(() => sources.add('s2', null, null)).toThrow(/already written/);
    expect(() => new NewPairs(1).addFrom(sources, 0, 't', null)).toThrow(/already written/);
    expect(sources.reuse().rows).toBe(0);
    expect(sources.add('s2', 'h2', null)).toBe(0);
    expect(sources.cursor(0)).toBe(null);
    expect(sources.hash(0)).toBe('h2');
  });
});
