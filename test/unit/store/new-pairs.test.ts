import { describe, expect, it } from 'vitest';
import { encodedIntegerCodes, encodeInteger } from '../../../src/engine/keys.js';
import { NewPairs } from '../../../src/store/pairs.js';
import { CopyData } from '../../../src/util/copy-text.js';

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

  it('writes a target key given as the character codes of its encoding as the encoded key itself', () => {
    const byCodes = new NewPairs(3, 16);
    const byString = new NewPairs(3, 16);
    for (const key of ['1', '90', '12345678901234567', '9223372036854775807']) {
      byCodes.add(`s${key}`, encodedIntegerCodes(key)!, 'h', null, null);
      byString.add(`s${key}`, encodeInteger(key), 'h', null, null);
    }
    expect(byCodes.toBuffer().toString('latin1')).toBe(byString.toBuffer().toString('latin1'));
    expect(byCodes.toBuffer().toString('latin1')).toContain('3\ts1\tp0000000000000000001\th\t\\N\t\\N\n3\ts90\tp0000000000000000090\t');
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
    expect(pairs.toBuffer().toString('utf8')).toBe('5\ts\tt\t\\N\t\\N\t\\N\n');
    expect(pairs.release()).toBe(used);
    expect(() => pairs.add('s2', 't2', null, null, null)).toThrow(/already written/);
    expect(() => pairs.toBuffer()).toThrow(/already written/);
    expect(pairs.count).toBe(1);
  });
});
