import { describe, expect, it } from 'vitest';
import { COPY_NULL, CopyData, escapeCopyField, unescapeCopyField } from '../../../src/util/copy-text.js';

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
  it('is the UTF-8 of the lines added, in order, across its 64 KiB pieces', () => {
    const lines: string[] = [];
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = ['a', '\t', 'é', '\u{1F600}', '€', 'x'.repeat(40), '\\N'];
    for (let i = 0; i < 20_000; i++) lines.push(Array.from({ length: next() % 9 }, () => alphabet[next() % alphabet.length]).join('') + '\n');
    // A line longer than a piece, and one of 4-byte characters only (the buffer grows to fit both).
    lines.push('y'.repeat(200_000) + '\n', '\u{1F600}'.repeat(70_000) + '\n');
    const data = new CopyData();
    for (const line of lines) data.add(line);
    expect(data.toBuffer().equals(Buffer.from(lines.join('')))).toBe(true);
    expect(new CopyData().toBuffer().length).toBe(0);
  });
});
