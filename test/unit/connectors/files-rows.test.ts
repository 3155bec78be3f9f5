import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { END_OF_FILE, hashValues, parsePosition, position } from '../../../src/connectors/files/rows.js';
import { canonicalValue } from '../../../src/connectors/files/values.js';
import { cursorTime } from '../../../src/engine/cursor-ceiling.js';

const FORMATS = { decimalSeparator: '.' as const };

describe('files rows: positions and ISO dates on the per-row path', () => {
  it('writes a position as file and line in 12 digits each, across files and up to the end-of-file line', () => {
    const cases: [number, number][] = [[1, 0], [1, 1], [1, 42], [7, 1_000_000], [7, 3], [123_456, END_OF_FILE], [1, 999]];
    for (const [file, line] of cases) {
      expect(position(file, line)).toBe(`${String(file).padStart(12, '0')}:${String(line).padStart(12, '0')}`);
      expect(parsePosition(position(file, line))).toEqual({ fileId: file, line });
    }
  });

  it('a position is no cursor time; dates still are', () => {
    expect(cursorTime(position(1, 42))).toBeNaN();
    expect(cursorTime('0001-01-01')).toBe(Date.parse('0001-01-01T00:00:00Z'));
    expect(cursorTime(' 2026-06-01 12:00:00+00')).toBe(Date.parse('2026-06-01T12:00:00Z'));
  });

  it('takes a YYYY-MM-DD date as it is exactly when it names a calendar day, and refuses the rest', () => {
    const ok = ['2024-02-29', '2000-02-29', '1999-12-31', '0100-01-01', '9999-12-31'];
    for (const date of ok) expect(canonicalValue(date, 'Date', FORMATS)).toBe(date);
    const bad = ['2023-02-29', '1900-02-29', '2024-13-01', '2024-00-10', '2024-01-00', '2024-04-31', '0099-01-01', '2024/01/01', '２０２４-01-01', '2024-01-0x'];
    for (const date of bad) expect(() => canonicalValue(date, 'Date', FORMATS)).toThrow(/is not a date/);
    // Padded to the canonical form by the general pattern, as before.
    expect(canonicalValue('2024-1-5', 'Date', { ...FORMATS, dateFormat: 'YYYY-MM-DD' })).toBe('2024-01-05');
  });

  it('gives decimals their canonical text, the text itself when it is canonical already', () => {
    const cases: [string, string][] = [['3.25', '3.25'], ['+3.25', '3.25'], ['2000.10', '2000.1'], ['2000.00', '2000'], ['-0.50', '-0.5'], ['-.5', '-0.5'], ['.5', '0.5'], ['12.', '12'], ['-12', '-12'], [' 7.5 ', '7.5']];
    for (const [text, canonical] of cases) expect(canonicalValue(text, 'Decimal', FORMATS)).toBe(canonical);
    expect(canonicalValue('3,25', 'Decimal', { decimalSeparator: ',' })).toBe('3.25');
  });

  it('reads integers and decimals with character codes exactly as the regex reading did, on random texts', () => {
    // The reading before it (a regex, then BigInt or slices): the same text out, the same refusals.
    const reference = (value: string, type: 'Integer' | 'Decimal', separator: '.' | ','): string | undefined => {
      const text = value.trim();
      if (text === '') return 'null';
      if (type === 'Integer') return /^[+-]?\d+$/.test(text) ? BigInt(text).toString() : undefined;
      // With a decimal comma, a point groups thousands: refused, not read as the decimal point.
      if (separator === ',' && text.includes('.')) return undefined;
      const normal = separator === ',' ? text.replace(',', '.') : text;
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(normal)) return undefined;
      const unsigned = normal.startsWith('+') ? normal.slice(1) : normal;
      const dot = unsigned.indexOf('.');
      if (dot < 0) return unsigned;
      let end = unsigned.length;
      while (end > dot + 1 && unsigned[end - 1] === '0') end--;
      const whole = unsigned.slice(0, dot);
      return `${whole === '' || whole === '-' ? `${whole}0` : whole}${end > dot + 1 ? unsigned.slice(dot, end) : ''}`;
    };
    const read = (value: string, type: 'Integer' | 'Decimal', separator: '.' | ','): string | undefined => {
      try {
        return canonicalValue(value, type, { decimalSeparator: separator }) ?? 'null';
      } catch (error) {
        return (type === 'Integer' ? /is not an integer/ : /is not a decimal number/).test((error as Error).message) ? undefined : (error as Error).message;
      }
    };
    const alphabet = ['0', '0', '1', '9', '5', '.', ',', '+', '-', ' ', 'e', '٣'];
    let seed = 1212;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let numbers = 0;
    const differ: unknown[] = [];
    for (let n = 0; n < 20000; n++) {
      let value = '';
      const length = 1 + Math.floor(random() * 7);
      for (let i = 0; i < length; i++) value += alphabet[Math.floor(random() * alphabet.length)];
      for (const type of ['Integer', 'Decimal'] as const) {
        for (const separator of ['.', ','] as const) {
          const expected = reference(value, type, separator);
          if (expected !== undefined) numbers++;
          const got = read(value, type, separator);
          if (got !== expected) differ.push({ value, type, separator, got, expected });
        }
      }
    }
    expect(differ).toEqual([]);
    expect(numbers).toBeGreaterThan(10000);
  });

  it('hashes values as md5 of their JSON text, byte for byte, plain or not (escapes, non-ASCII, surrogates, long texts, nulls)', () => {
    const pieces = ['a', 'Z', '0', ' ', ',', '"', '\\', '\n', '\u0001', '\u001f', '\u007f', 'é', '€', '\u2028', '😀', '\ud800', '\udfff', 'x'.repeat(700)];
    let seed = 99;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const differ: unknown[] = [];
    let plain = 0;
    for (let n = 0; n < 20000; n++) {
      const values: (string | null)[] = [];
      const width = Math.floor(random() * 9);
      for (let i = 0; i < width; i++) {
        if (random() < 0.1) values.push(null);
        else {
          let value = '';
          const length = Math.floor(random() * 8);
          // Mostly ASCII letters (the fast path), sometimes a character JSON escapes or UTF-8 writes in more bytes.
          for (let k = 0; k < length; k++) value += random() < 0.9 ? pieces[Math.floor(random() * 4)] : pieces[Math.floor(random() * pieces.length)];
          values.push(value);
        }
      }
      const json = JSON.stringify(values);
      if (!/[\ud800-\udfff]/.test(json) && !json.includes('\\')) plain++;
      const expected = createHash('md5').update(json).digest('hex');
      if (hashValues(values) !== expected) differ.push(values);
    }
    expect(differ).toEqual([]);
    expect(plain).toBeGreaterThan(8000);
    // Characters of two and three UTF-8 bytes, at the edges of each width.
    const wide = ['\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', 'Zürich', '東京'];
    for (const value of wide) expect(hashValues([value, 'a'])).toBe(createHash('md5').update(JSON.stringify([value, 'a'])).digest('hex'));
    // Long values, hashed where they are written up to the buffer's end (each length, so every padding case of MD5's last block).
    for (let length = 1200; length < 1370; length++) {
      const values = ['é'.repeat(length >> 4), 'x'.repeat(length)];
      expect(hashValues(values)).toBe(createHash('md5').update(JSON.stringify(values)).digest('hex'));
    }
  });
});
