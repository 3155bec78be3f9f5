import { describe, expect, it } from 'vitest';
import { canonicalValue } from '../../../src/connectors/files/values.js';

const read = (text: string, type: 'Decimal' | 'Integer' | 'Date' | 'Timestamp', formats: Parameters<typeof canonicalValue>[2], format?: string) => {
  try {
    return canonicalValue(text, type, formats, format);
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
};
const COMMA = { decimalSeparator: ',' as const };
const POINT = { decimalSeparator: '.' as const };

describe('decimals with a decimal comma: a point is a thousands separator there, so it is refused rather than read as the decimal point', () => {
  it('"1.234" is not 1.234 where the decimal separator is a comma; grouped numbers are refused either way', () => {
    expect(read('1.234', 'Decimal', COMMA)).toBe('refused: "1.234" is not a decimal number (separator ",")');
    expect(read('1.234,5', 'Decimal', COMMA)).toBe('refused: "1.234,5" is not a decimal number (separator ",")');
    expect(read('1,234.5', 'Decimal', POINT)).toBe('refused: "1,234.5" is not a decimal number (separator ".")');
    expect(read('1 234,5', 'Decimal', COMMA)).toBe('refused: "1 234,5" is not a decimal number (separator ",")');
    expect(read('1,234', 'Decimal', POINT)).toBe('refused: "1,234" is not a decimal number (separator ".")');
  });

  it('negative and signed numbers, a comma first or last', () => {
    expect(['-3,5', '+3,50', '-,5', '3,', '-0,0', '1234', '-1234,000'].map((t) => read(t, 'Decimal', COMMA))).toEqual(['-3.5', '3.5', '-0.5', '3', '-0', '1234', '-1234']);
    expect(['-', ',', '3,5-', '(3,5)', '3,5,1', '٣'].map((t) => read(t, 'Decimal', COMMA))).toEqual(
      ['-', ',', '3,5-', '(3,5)', '3,5,1', '٣'].map((t) => `refused: "${t}" is not a decimal number (separator ",")`),
    );
  });
});

describe('dates and timestamps at the edges of the calendar are refused, not rolled over', () => {
  it('29 February only in leap years (2000 is one, 1900 and 2100 are not); 31 April; month 13; day 0', () => {
    const dates = ['29.02.2024', '29.02.2000', '29.02.2023', '29.02.1900', '29.02.2100', '31.04.2020', '01.13.2020', '00.01.2020', '31.12.9999'];
    expect(dates.map((d) => read(d, 'Date', { ...COMMA, dateFormat: 'DD.MM.YYYY' }))).toEqual([
      '2024-02-29',
      '2000-02-29',
      'refused: "29.02.2023" is not a date in the format DD.MM.YYYY',
      'refused: "29.02.1900" is not a date in the format DD.MM.YYYY',
      'refused: "29.02.2100" is not a date in the format DD.MM.YYYY',
      'refused: "31.04.2020" is not a date in the format DD.MM.YYYY',
      'refused: "01.13.2020" is not a date in the format DD.MM.YYYY',
      'refused: "00.01.2020" is not a date in the format DD.MM.YYYY',
      '9999-12-31',
    ]);
    expect(read('2023-02-29', 'Date', POINT)).toBe('refused: "2023-02-29" is not a date in the format YYYY-MM-DD');
  });

  it('timestamps: the same days, hours past 23, minutes or seconds past 59', () => {
    const formats = { ...POINT, timestampFormat: 'DD.MM.YYYY HH:mm:ss' };
    expect(['28.02.2023 23:59:59', '29.02.2023 00:00:00', '01.01.2023 24:00:00', '01.01.2023 12:60:00', '01.01.2023 12:00:60'].map((t) => read(t, 'Timestamp', formats))).toEqual([
      '2023-02-28T23:59:59Z',
      ...['29.02.2023 00:00:00', '01.01.2023 24:00:00', '01.01.2023 12:60:00', '01.01.2023 12:00:60'].map((t) => `refused: "${t}" is not a timestamp in the format DD.MM.YYYY HH:mm:ss`),
    ]);
    expect(['2023-02-29T10:00:00Z', '2024-02-29T10:00:00+01:00', '2023-04-31 00:00:00'].map((t) => read(t, 'Timestamp', POINT))).toEqual([
      'refused: "2023-02-29T10:00:00Z" is not an ISO 8601 timestamp',
      '2024-02-29T09:00:00Z',
      'refused: "2023-04-31 00:00:00" is not an ISO 8601 timestamp',
    ]);
  });
});
