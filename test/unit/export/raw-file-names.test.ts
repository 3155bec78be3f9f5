import { describe, expect, it } from 'vitest';
import { escapedIfInvalid } from '../../../src/export/transports/types.js';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('escapedIfInvalid: a file name that is not valid UTF-8, as people are shown it', () => {
  it('is undefined for a valid name (non-ASCII and 4-byte characters included)', () => {
    expect(escapedIfInvalid(Buffer.from('Müller Zoë 😀 [x]*.csv'))).toBeUndefined();
    expect(escapedIfInvalid(Buffer.from(''))).toBeUndefined();
  });

  it('escapes each byte that is not part of a character, keeping the characters around it', () => {
    // Latin-1 ü (an old Windows host); Windows-1252 € (0x80); a 2-byte character cut short; an overlong slash; bytes that never occur in UTF-8.
    expect(escapedIfInvalid(bytes('M', [0xfc], 'ller.csv'))).toBe('M\\xFCller.csv');
    expect(escapedIfInvalid(bytes('Ümlaut ', [0x80], '.csv'))).toBe('Ümlaut \\x80.csv');
    expect(escapedIfInvalid(bytes('a', [0xc3], 'b'))).toBe('a\\xC3b');
    expect(escapedIfInvalid(bytes([0xc0, 0xaf], 'x'))).toBe('\\xC0\\xAFx');
    expect(escapedIfInvalid(bytes('😀', [0xff, 0xfe]))).toBe('😀\\xFF\\xFE');
  });
});
