import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CleanCsvReader, NotCleanCsvError, type CsvRecordHandler } from '../../../src/connectors/files/csv-clean.js';
import { quotingLooksClean } from '../../../src/connectors/files/csv-quotes.js';
import { csvOptions, dialectOf } from '../../../src/connectors/files/parse.js';

interface CsvRow {
  line: number;
  values: (string | null)[];
}

/** What the import's csv-parse reading gives: each record with its line. */
function csvParse(text: string, delimiter: string, emptyIsNull: boolean): CsvRow[] {
  const dialect = { ...dialectOf({ pattern: '*', contents: 'Snapshot' }), delimiter, emptyIsNull };
  const records = parse(text, csvOptions(dialect)) as unknown as { record: (string | null)[]; info: { lines: number } }[];
  return records.map(({ record, info }) => ({ line: info.lines, values: record }));
}

/** The clean reader over the text cut in pieces of `piece` characters. */
function cleanRead(text: string, delimiter: string, emptyIsNull: boolean, piece: number): CsvRow[] {
  const reader = new CleanCsvReader(delimiter, '"', emptyIsNull);
  const out: CsvRow[] = [];
  // The reader reuses its array of fields: a record is copied as it comes.
  const take: CsvRecordHandler = (fields, count, line) => out.push({ line, values: fields.slice(0, count) });
  for (let i = 0; i < text.length; i += piece) reader.push(text.slice(i, i + piece), take);
  reader.end(take);
  return out;
}

const isClean = async (text: string, delimiter: string) => (await quotingLooksClean([Buffer.from(text, 'utf8')], delimiter, '"')) === 'clean';

describe('CleanCsvReader: csv-parse records of a cleanly quoted CSV text, from a plain scan', () => {
  it('gives the records, nulls and line numbers csv-parse gives for fixed texts', async () => {
    const texts = [
      'a,b\n1,2\n',
      'a,b\n"x\ny",2\n\n3,4\n',
      'a,b\r\n"x\r\ny",""\r\n\r\n,5',
      '\n\na\n1',
      'a\n""\n',
      'a,b\n1,2\n\n\n',
      '"a\nb",c\r\n1,2\r\n',
      'a,b\n"say ""hi""",\n,\n"",""\n"""",x',
      'a;b\n1;"2;3"\n',
      '',
    ];
    for (const text of texts) {
      const delimiter = text.includes(';') ? ';' : ',';
      expect(await isClean(text, delimiter)).toBe(true);
      for (const emptyIsNull of [true, false]) {
        for (const piece of [1, 2, 3, 7, 1000]) expect([text, piece, cleanRead(text, delimiter, emptyIsNull, piece)]).toEqual([text, piece, csvParse(text, delimiter, emptyIsNull)]);
      }
    }
  });

  it('agrees with csv-parse on every random text the quoting scan calls clean, read in pieces of 1-6 characters', async () => {
    const alphabet = ['a', 'b', ',', '"', '"', '""', '\n', '\r\n', '\r', ' ', '\u00e9', ''];
    let seed = 4242;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let clean = 0;
    for (let n = 0; n < 6000; n++) {
      let text = '';
      const length = Math.floor(random() * 30);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (!(await isClean(text, ','))) continue;
      clean++;
      const emptyIsNull = n % 2 === 0;
      expect([text, cleanRead(text, ',', emptyIsNull, 1 + (n % 6))]).toEqual([text, csvParse(text, ',', emptyIsNull)]);
    }
    expect(clean).toBeGreaterThan(800);
  });

  it('gives only the wanted fields their text, the rest null, with the same lines', () => {
    const text = 'a,b,c\n1,"x\ny",3\n,"",\n"p""q",r,s\n';
    const wanted = [true, false, true];
    const reader = new CleanCsvReader(',', '"', true);
    const out: CsvRow[] = [];
    const take: CsvRecordHandler = (fields, count, line) => out.push({ line, values: fields.slice(0, count) });
    reader.want(wanted);
    for (let i = 0; i < text.length; i += 2) reader.push(text.slice(i, i + 2), take);
    reader.end(take);
    const all = csvParse(text, ',', true).map(({ line, values }) => ({ line, values: values.map((v, i) => (wanted[i] ? v : null)) }));
    expect(out).toEqual(all);
  });

  it('completes a record cut by a piece end whatever its length: a quoted field of many lines, longer than a piece', () => {
    const long = Array.from({ length: 30_000 }, (_, i) => `line ${i}`).join('\n');
    const text = `a,b\n1,"${long}"\n2,x\n"${long.slice(0, 1000)}",y`;
    for (const piece of [4096, 65_536, 1 << 18]) expect(cleanRead(text, ',', true, piece)).toEqual(csvParse(text, ',', true));
  });

  it('throws rather than guess when the text is not clean', () => {
    expect(() => cleanRead('a\n"x"y\n', ',', true, 100)).toThrow(NotCleanCsvError);
    expect(() => cleanRead('a\rb\n', ',', true, 100)).toThrow(NotCleanCsvError);
  });
});
