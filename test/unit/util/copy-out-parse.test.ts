import { describe, expect, it } from 'vitest';
import { escapeCopyField } from '../../../src/util/copy-text.js';
import { parseLine } from '../../../src/util/copy-out.js';

describe('parseLine', () => {
  it('splits a line without backslashes into its fields as they are, empty ones included', () => {
    expect(parseLine('1\tabc\t\tp0000000000000000042')).toEqual(['1', 'abc', '', 'p0000000000000000042']);
    expect(parseLine('')).toEqual(['']);
    expect(parseLine('\t')).toEqual(['', '']);
    expect(parseLine('N\tü✓ x')).toEqual(['N', 'ü✓ x']);
  });

  it('unescapes every field of a line with a backslash anywhere, nulls included, the plain fields beside them kept', () => {
    expect(parseLine('\\N\tplain')).toEqual([null, 'plain']);
    expect(parseLine('plain\t\\N')).toEqual(['plain', null]);
    expect(parseLine('a\\tb\tc\\\\d\t\\n\tlast\\r')).toEqual(['a\tb', 'c\\d', '\n', 'last\r']);
    expect(parseLine('x\t\\x41\\101\\b')).toEqual(['x', 'AA\b']);
    expect(parseLine('\\\\N\t\\\\')).toEqual(['\\N', '\\']);
  });

  it('gives back the values of any line escapeCopyField wrote, whichever field holds the escape', () => {
    const values = ['', 'a', '\\', '\t', '\n', '\r', 'a\\b', 'N', '\\N', 'ü', 'x\ty'];
    for (const a of values) {
      for (const b of values) {
        for (const c of [null, 'z', '\\']) {
          const fields = [a, b, c];
          expect(parseLine(fields.map(escapeCopyField).join('\t')), JSON.stringify(fields)).toEqual(fields);
        }
      }
    }
  });
});
