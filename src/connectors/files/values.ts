import type { FileColumnType } from '../../api/files.js';

/** A value that does not parse as its column's type; the message names the value, the caller the line and column. */
export class ValueError extends Error {}

export interface ValueFormats {
  decimalSeparator: '.' | ',';
  dateFormat?: string;
  timestampFormat?: string;
}

const TRUE = new Set(['t', 'true', '1', 'yes', 'y', 'on']);
const FALSE = new Set(['f', 'false', '0', 'no', 'n', 'off']);
const TOKENS = /YYYY|MM|DD|HH|mm|ss/g;
const PLUS = 43;
const ZERO = 48;
const NINE = 57;
const DASH = 45;
const MINUS = 45;
const DOT = 46;
const COMMA = 44;

/** `DD.MM.YYYY` -> a pattern with named groups; separators are literal. */
function formatPattern(format: string): RegExp {
  const source = format.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(TOKENS, (token) => {
    const width = token === 'YYYY' ? 4 : 2;
    return `(?<${token === 'mm' ? 'minute' : token}>\\d{1,${width}})`;
  });
  return new RegExp(`^${source}$`);
}

const patterns = new Map<string, RegExp>();
function patternOf(format: string): RegExp {
  let pattern = patterns.get(format);
  if (!pattern) patterns.set(format, (pattern = formatPattern(format)));
  return pattern;
}

const pad = (n: string | undefined, width = 2) => (n ?? '0').padStart(width, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A calendar date; years below 100 are refused (as `Date.UTC`, which reads them as 19xx, always did here). */
function validDate(year: string, month: string, day: string): boolean {
  return validDay(Number(year), Number(month), Number(day));
}

function validDay(y: number, m: number, d: number): boolean {
  if (!(y >= 100) || !(m >= 1 && m <= 12) || !(d >= 1)) return false;
  const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= DAYS_IN_MONTH[m - 1]! + (leap ? 1 : 0);
}

/** The number the digits of `text` from `from` to `to` spell, or NaN when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return NaN;
    n = n * 10 + digit;
  }
  return n;
}

/** `YYYY-MM-DD` (ASCII digits) naming a calendar date, read without a regex match per value. */
function isIsoDate(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH) return false;
  return validDay(digitsAt(text, 0, 4), digitsAt(text, 5, 7), digitsAt(text, 8, 10));
}

function byFormat(text: string, format: string, what: string): { date: string; time: string } {
  const groups = patternOf(format).exec(text)?.groups;
  if (!groups || !validDate(groups.YYYY ?? '', groups.MM ?? '', groups.DD ?? '')) throw new ValueError(`"${text}" is not a ${what} in the format ${format}`);
  const [hour, minute, second] = [Number(groups.HH ?? 0), Number(groups.minute ?? 0), Number(groups.ss ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) throw new ValueError(`"${text}" is not a ${what} in the format ${format}`);
  return { date: `${pad(groups.YYYY, 4)}-${pad(groups.MM)}-${pad(groups.DD)}`, time: `${pad(groups.HH)}:${pad(groups.minute)}:${pad(groups.ss)}` };
}

function isoTimestamp(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text);
  const date = match ? new Date(`${match[1]}T${match[2] ?? '00:00:00'}${(match[3] ?? 'Z').replace(/^([+-]\d{2})(\d{2})$/, '$1:$2').replace(/^([+-]\d{2})$/, '$1:00')}`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !validDate(...(match![1].split('-') as [string, string, string]))) {
    throw new ValueError(`"${text}" is not an ISO 8601 timestamp`);
  }
  // A Date holds milliseconds; the digits after them (PostgreSQL's microseconds) are kept from the text.
  const fraction = /\.(\d+)$/.exec(match![2] ?? '')?.[1]?.replace(/0+$/, '') ?? '';
  return date.toISOString().replace(/\.\d{3}Z$/, fraction ? `.${fraction}Z` : 'Z');
}

/** Whether `text` holds only ASCII digits from `from` on, at least one. */
function allDigits(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/** `[+-]?\d+` as the integer's canonical text (no plus, no leading zeros, no minus zero); undefined when it is none. */
function canonicalInteger(value: string): string | undefined {
  const first = value.charCodeAt(0);
  const signed = first === PLUS || first === MINUS ? 1 : 0;
  if (!allDigits(value, signed)) return undefined;
  // Canonical already (most values): the text itself, read with character codes, no BigInt.
  if (first !== PLUS && (value.charCodeAt(signed) !== ZERO || value.length === 1)) return value;
  return BigInt(value).toString();
}

/**
 * `[+-]?(\d+(\.\d*)?|\.\d+)` as the decimal's canonical text (no plus, digits before the point, no
 * trailing zeros after it, no point without digits after it); undefined when it is none. With
 * `comma`, the point is written as a comma, and a point is refused: where the decimal separator is
 * a comma, "1.234" groups thousands (1234), and reading it as 1.234 would import it 1000 times too small.
 */
function canonicalDecimal(value: string, comma: boolean): string | undefined {
  const n = value.length;
  const first = value.charCodeAt(0);
  const plus = first === PLUS ? 1 : 0;
  let before = 0;
  let after = 0;
  let dot = -1;
  for (let i = plus === 1 || first === MINUS ? 1 : 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      if (dot < 0) before++;
      else after++;
    } else if (dot < 0 && c === (comma ? COMMA : DOT)) dot = i;
    else return undefined;
  }
  if (before === 0 && after === 0) return undefined;
  if (dot < 0) return plus ? value.slice(1) : value;
  let end = n;
  while (end > dot + 1 && value.charCodeAt(end - 1) === ZERO) end--;
  // Already canonical (digits before the point, no trailing zeros after it): the text itself, no new strings.
  if (end === n && after > 0 && before > 0) return !plus && value.charCodeAt(dot) === DOT ? value : `${value.slice(plus, dot)}.${value.slice(dot + 1)}`;
  const whole = value.slice(plus, dot);
  return `${before === 0 ? `${whole}0` : whole}${end > dot + 1 ? `.${value.slice(dot + 1, end)}` : ''}`;
}

/**
 * A file's text as the canonical text of its column type (what the engine hashes and writers
 * accept): integers and decimals without grouping, `.` as decimal separator, booleans `true`/`false`,
 * dates `YYYY-MM-DD`, timestamps ISO 8601 in UTC. Null and Text pass as they are.
 */
export function canonicalValue(text: string | null, type: FileColumnType, formats: ValueFormats, format?: string): string | null {
  if (text === null || type === 'Text') return text;
  const value = text.trim();
  if (value === '') return null;
  switch (type) {
    case 'Integer': {
      const canonical = canonicalInteger(value);
      if (canonical === undefined) throw new ValueError(`"${text}" is not an integer`);
      return canonical;
    }
    case 'Decimal': {
      const canonical = canonicalDecimal(value, formats.decimalSeparator === ',');
      if (canonical === undefined) throw new ValueError(`"${text}" is not a decimal number (separator "${formats.decimalSeparator}")`);
      return canonical;
    }
    case 'Boolean': {
      const word = value.toLowerCase();
      if (TRUE.has(word)) return 'true';
      if (FALSE.has(word)) return 'false';
      throw new ValueError(`"${text}" is not a boolean`);
    }
    case 'Date': {
      const dateFormat = format ?? formats.dateFormat ?? 'YYYY-MM-DD';
      // Already canonical: skip the general pattern's named groups and padding.
      if (dateFormat === 'YYYY-MM-DD' && isIsoDate(value)) return value;
      return byFormat(value, dateFormat, 'date').date;
    }
    case 'Timestamp': {
      const timestampFormat = format ?? formats.timestampFormat;
      if (!timestampFormat) return isoTimestamp(value);
      const { date, time } = byFormat(value, timestampFormat, 'timestamp');
      return `${date}T${time}Z`;
    }
  }
}
