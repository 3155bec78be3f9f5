import { describe, expect, it } from 'vitest';
import { csvField, csvLine, DEFAULT_CSV } from '../../../src/export/csv.js';

describe('RFC 4180 CSV', () => {
  it('quotes only fields holding the delimiter, the quote, CR or LF, and doubles quotes', () => {
    expect(csvField('plain', DEFAULT_CSV)).toBe('plain');
    expect(csvField('a,b', DEFAULT_CSV)).toBe('"a,b"');
    expect(csvField('say "hi"', DEFAULT_CSV)).toBe('"say ""hi"""');
    expect(csvField('two\nlines', DEFAULT_CSV)).toBe('"two\nlines"');
    expect(csvField('cr\r', DEFAULT_CSV)).toBe('"cr\r"');
  });

  it('writes NULL as an empty field and an empty string as "" so they stay distinct', () => {
    expect(csvLine([null, '', 'x'], DEFAULT_CSV)).toBe(',"",x\r\n');
  });

  it('honours a custom delimiter and quote', () => {
    const options = { header: true, delimiter: ';', quote: "'" };
    expect(csvLine(['a;b', "it's", 'c,d'], options)).toBe("'a;b';'it''s';c,d\r\n");
  });
});
