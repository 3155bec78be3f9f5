import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CleanCsvReader, type CsvRecordHandler } from '../../../src/connectors/files/csv-clean.js';
import { csvOptions, dialectOf } from '../../../src/connectors/files/parse.js';

type CsvRow = { line: number; values: (string | null)[] };

function csvParse(text: string): CsvRow[] {
  const records = parse(text, csvOptions(dialectOf({ pattern: '*', contents: 'Snapshot' }))) as unknown as { record: (string | null)[]; info: { lines: number } }[];
  return records.map(({ record, info }) => ({ line: info.lines, values: record }));
}

/** The clean reader over `text` in pieces of `piece` characters. */
function cleanRead(text: string, piece: number): CsvRow[] {
  const reader = new CleanCsvReader(',', '"', true);
  const out: CsvRow[] = [];
  const take: CsvRecordHandler = (fields, count, line) => out.push({ line, values: fields.slice(0, count) });
  for (let i = 0; i < text.length; i += piece) reader.push(text.slice(i, i + piece), take);
  reader.end(take);
  return out;
}

describe('CleanCsvReader: records far longer than a piece', () => {
  it('gives csv-parse records for long quoted fields with doubled quotes, line ends and delimiters inside, CRLF or LF, in pieces of any size', () => {
    const inner = Array.from({ length: 4000 }, (_, i) => (i % 7 === 0 ? `""q${i}"",` : i % 5 === 0 ? `x${i}\r\n` : `w${i}\n`)).join('');
    for (const end of ['\n', '\r\n']) {
      const text = [`a,b,c`, `1,"${inner}",z`, `2,"${inner}"`, `"${inner}",,"${inner}"`, `3,${'u'.repeat(30_000)},v`, `4,"""",""`, `5,"${inner}`].join(end) + `"${end}6,x,y`;
      const expected = csvParse(text);
      expect(expected.length).toBe(8);
      for (const piece of [1, 7, 4096, 4097, 65_536]) expect([end, piece, cleanRead(text, piece)]).toEqual([end, piece, expected]);
    }
  });

  it('reads a record of 8 MiB, handed in 64 KiB pieces, in time linear in its length (not read again from its start with every piece)', () => {
    // Counted, not timed: the characters the reader scans (String.prototype.indexOf on its text) grow with the square of the record when it is read again with every piece.
    const value = 'y'.repeat(8 << 20);
    const text = `a,b\n1,"${value}"\n2,x\n`;
    let scanned = 0;
    const indexOf = String.prototype.indexOf;
    String.prototype.indexOf = function (this: string, search: string, from?: number) {
      const found = indexOf.call(this, search, from);
      scanned += (found < 0 ? this.length : found) - (from ?? 0);
      return found;
    };
    try {
      const rows = cleanRead(text, 1 << 16);
      expect(rows.map((r) => [r.line, r.values[0], r.values[1]!.length])).toEqual([
        [1, 'a', 1],
        [2, '1', value.length],
        [3, '2', 1],
      ]);
    } finally {
      String.prototype.indexOf = indexOf;
    }
    expect(scanned).toBeLessThan(4 * text.length);
  });
});
