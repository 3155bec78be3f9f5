import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freshRowWriter, storedRowHash, storedText, type ServerTraits } from '../../../src/connectors/postgres/stored-hash.js';
import { escapeCopyField } from '../../../src/util/copy-text.js';

/**
 * The row hasher works out record_out's quoting with one character scan per value; these checks hold
 * it to the rule as regular expressions state it (the form it had before), on random rows. Whether
 * the rule is PostgreSQL's own is checked against a real server (integration/connectors/postgres-stored-hash).
 */
const QUOTE = /["\\(),\t\n\v\f\r ]/;
const NON_ASCII = /[^\x00-\x7f]/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function referenceHash(types: string[], traits: ServerTraits, values: (string | null)[]): string | undefined {
  let text = '(';
  for (let i = 0; i < types.length; i++) {
    if (i > 0) text += ',';
    const written = values[i]!;
    if (written === null) continue;
    if (types[i] === 'date' && !ISO_DATE.test(written)) return undefined;
    const value = storedText(types[i]!, traits)!(written);
    if (value === undefined) return undefined;
    if (value === '') text += '""';
    else if (QUOTE.test(value)) text += `"${value.replace(/["\\]/g, '$&$&')}"`;
    else if (NON_ASCII.test(value) && !traits.nonAsciiPlain) return undefined;
    else text += value;
  }
  return createHash('md5').update(`${text})`).digest('hex');
}

const TRAITS: ServerTraits = { utf8: true, isoDates: true, nonAsciiPlain: true, utcSession: true, untouched: true };
const TYPES = ['text', 'character varying(6)', 'integer', 'numeric(10,2)', 'numeric', 'date', 'boolean', 'timestamp(3) without time zone', 'character varying'];
const PIECES = ['a', 'Z', ' ', '"', '\\', '(', ')', ',', '\t', '\n', '\v', '\f', '\r', 'é', '\u00a0', '\u{1F600}', '0', '1', '9', '-', '.', ':', 'T', 't', 'f', 'Z', '+00'];
/** Values of the typed columns, most in a form Ferry works out, some not. */
const TYPED: Record<string, string[]> = {
  integer: ['0', '12', '-7', '2147483647', '007', '+3', '1e3', '-0'],
  'numeric(10,2)': ['1.5', '12.34', '-3', '0', '0.10', '-0.00', '12.345', '.5', '3.'],
  numeric: ['1.5', '-12.340', '0', '7', '-0', '1e3', ' 1'],
  date: ['2026-11-30', '1999-01-02', '2026-1-30', '20261130', '2026-11-30 '],
  boolean: ['t', 'f', 'true', 'false', 'TRUE', 'yes'],
  'timestamp(3) without time zone': ['2026-11-30 12:30:00', '2026-11-30T12:30:00.120Z', '2026-11-30 12:30:00.12+00', '2026-11-30 12:30:00.1234', '2026-11-30 24:00:00'],
};

describe('stored row hash worked out in Ferry', () => {
  it('hashes random rows as the regular-expression rule does, and refuses the same rows', () => {
    let seed = 11;
    // xorshift32: every bit varies (a multiplicative step in doubles loses the low bits).
    const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), seed >>> 0);
    const text = () => Array.from({ length: next() % 6 }, () => PIECES[next() % PIECES.length]).join('');
    const value = (type: string): string | null => {
      if (next() % 9 === 0) return null;
      const typed = TYPED[type];
      return typed && next() % 8 !== 0 ? typed[next() % typed.length]! : text();
    };
    let hashed = 0;
    for (const nonAsciiPlain of [true, false]) {
      const traits = { ...TRAITS, nonAsciiPlain };
      for (let i = 0; i < 20_000; i++) {
        const types = Array.from({ length: 1 + (next() % 3) }, () => TYPES[next() % TYPES.length]!);
        const row = types.map(value);
        const expected = referenceHash(types, traits, row);
        expect(storedRowHash(types, traits)!(row), `${JSON.stringify(types)} ${JSON.stringify(row)}`).toBe(expected);
        if (expected !== undefined) hashed++;
      }
    }
    // Enough of them are worked out (not refused) for the comparison to mean something.
    expect(hashed).toBeGreaterThan(8_000);
  });

  it('writes the COPY lines of a batch as plain COPY text, and each row’s hash as the rule does, in one pass', () => {
    let seed = 23;
    const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), seed >>> 0);
    const text = () => Array.from({ length: next() % 5 }, () => PIECES[next() % PIECES.length]).join('');
    const types = ['text', 'numeric(10,2)', 'character varying(6)', 'date', 'integer', 'timestamp(3) without time zone', 'character varying'];
    const writer = freshRowWriter(types, TRAITS)!;
    const rows = Array.from({ length: 5_000 }, () =>
      types.map((type) => (next() % 9 === 0 ? null : TYPED[type] && next() % 10 !== 0 ? TYPED[type]![next() % TYPED[type]!.length]! : text())),
    );
    // A key field first (as copyFresh writes it), then the values; a small first buffer, so both buffers grow.
    const data = writer.copyData(16);
    const hashes = rows.map((row, i) => {
      data.field(String(i + 1));
      return writer.write(row, data);
    });
    const expected = rows.map((row, i) => [String(i + 1), ...row].map(escapeCopyField).join('\t') + '\n').join('');
    expect(data.toBuffer().equals(Buffer.from(expected))).toBe(true);
    rows.forEach((row, i) => expect(hashes[i], JSON.stringify(row)).toBe(referenceHash(types, TRAITS, row)));
    // Enough rows are worked out (not refused) for the comparison to mean something.
    expect(hashes.filter((h) => h !== undefined).length).toBeGreaterThan(300);
  });

  it('hashes dates written as YYYY-MM-DD and nothing else', () => {
    const date = storedRowHash(['date'], TRAITS)!;
    for (const v of ['2026-11-30', '0001-01-01']) expect(date([v])).toBe(createHash('md5').update(`(${v})`).digest('hex'));
    for (const v of ['2026-1-30', '2026-11-3', '20261130', '2026-11-30 ', '2026/11/30', '2026-11-3x', '٢٠٢٦-11-30', '+2026-11-30']) expect(date([v])).toBeUndefined();
  });
});
