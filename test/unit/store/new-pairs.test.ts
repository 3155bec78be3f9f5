import { describe, expect, it } from 'vitest';
import { NewPairs } from '../../../src/store/pairs.js';

describe('NewPairs', () => {
  it('builds COPY text lines of scope, keys, hashes and cursor: nulls as \\N, special characters escaped, growing past its first size', () => {
    const pairs = new NewPairs(42, 16);
    pairs.add('p1', 'p10', 'h1', 't1', null);
    pairs.add('tab\there', 'back\\slash', null, null, 'c\n2');
    pairs.add('Zürich', 'p11', 'h3', 't3', '7');
    expect(pairs.count).toBe(3);
    expect(pairs.toBuffer().toString('utf8')).toBe(
      '42\tp1\tp10\th1\tt1\t\\N\n' + '42\ttab\\there\tback\\\\slash\t\\N\t\\N\tc\\n2\n' + '42\tZürich\tp11\th3\tt3\t7\n',
    );
  });

  it('holds nothing when no pair was added', () => {
    const pairs = new NewPairs(1);
    expect(pairs.count).toBe(0);
    expect(pairs.toBuffer().length).toBe(0);
  });
});
