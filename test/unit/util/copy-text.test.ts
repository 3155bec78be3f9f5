import { describe, expect, it } from 'vitest';
import { characterFlags, COPY_NULL, CopyData, escapeCopyField, unescapeCopyField } from '../../../src/util/copy-text.js';

describe('COPY text fields', () => {
  it('escape the backslash, tab, newline and carriage return, and nothing else', () => {
    expect(escapeCopyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(escapeCopyField('plain, "quoted" ; text')).toBe('plain, "quoted" ; text');
    expect(escapeCopyField('')).toBe('');
    expect(escapeCopyField(null)).toBe(COPY_NULL);
    expect(escapeCopyField('\\N')).toBe('\\\\N');
  });

  it('decode to the value they encode, for any text', () => {
    const alphabet = ['a', 'Z', ' ', '\\', '\t', '\n', '\r', 'N', 'é', '\u{1F600}', 'x', '0'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const value = Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join('');
      const field = escapeCopyField(value);
      expect(field).not.toMatch(/[\t\n\r]/);
      expect(unescapeCopyField(field)).toBe(value);
    }
  });
});

describe('COPY data', () => {
  it('is the UTF-8 of the lines of escaped fields added, for any text and however large', () => {
    let seed = 3;
    // xorshift32: every bit varies (a multiplicative step in doubles loses the low bits).
    const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), seed >>> 0);
    const alphabet = ['a', 'Z', ' ', '\\', '\t', '\n', '\r', 'N', 'é', '€', '\u{1F600}', '\ud800', 'x'.repeat(40), '\\N', '\u007f', '\u0080'];
    const rows: (string | null)[][] = [];
    for (let i = 0; i < 20_000; i++) {
      rows.push(Array.from({ length: 1 + (next() % 5) }, () => (next() % 7 === 0 ? null : Array.from({ length: next() % 6 }, () => alphabet[next() % alphabet.length]).join(''))));
    }
    // Fields longer than the buffer's first size, one of them of 4-byte characters only (it grows to fit).
    rows.push(['y'.repeat(200_000), '\u{1F600}'.repeat(70_000), 'tab\there']);
    const data = new CopyData();
    for (const row of rows) row.forEach((value, i) => data.field(value, i === row.length - 1));
    const expected = rows.map((row) => row.map(escapeCopyField).join('\t') + '\n').join('');
    expect(data.toBuffer().equals(Buffer.from(expected))).toBe(true);
    expect(new CopyData().toBuffer().length).toBe(0);
  });

  it('reports the caller’s flags of a field written as it is, and -1 for one written escaped, as UTF-8 or as null', () => {
    const data = new CopyData(characterFlags({ ',': 1, '"': 2, '\t': 4 }));
    expect(data.field('plain')).toBe(0);
    expect(data.field('a,b')).toBe(1);
    expect(data.field('"a", b')).toBe(3);
    expect(data.field('')).toBe(0);
    expect(data.field('tab\t')).toBe(-1);
    expect(data.field('back\\slash,')).toBe(-1);
    expect(data.field('Zürich,')).toBe(-1);
    expect(data.field(null, true)).toBe(-1);
    expect(data.toBuffer().toString()).toBe('plain\ta,b\t"a", b\t\ttab\\t\tback\\\\slash,\tZürich,\t\\N\n');
  });
});
