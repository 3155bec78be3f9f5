import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { csvOptions, dialectOf } from '../../../src/connectors/files/parse.js';

/** csv-parse with the import's options over `text` cut in pieces of `piece` characters: each record with its line. */
async function records(text: string, piece: number): Promise<[number, (string | null)[]][]> {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += piece) pieces.push(text.slice(i, i + piece));
  const out: [number, (string | null)[]][] = [];
  const dialect = { ...dialectOf({ pattern: '*', contents: 'Snapshot' }), delimiter: ';' };
  for await (const { record, info } of Readable.from(pieces).pipe(parse(csvOptions(dialect)))) out.push([info.lines, record]);
  return out;
}

describe('csv-parse as the files source reads what the byte scan cannot vouch for: line breaks', () => {
  it('ends a record at CRLF, LF or CR, mixed in one file, wherever a piece ends (a CRLF cut in two is one break)', async () => {
    // The first break is CRLF; csv-parse on its own took it for every line, and ran the LF lines together.
    const text = 'no;name\r\n1;"Ann"\n2;Ben\r3;"C\r\nid"\r\n4;Dee\n';
    const expected = [
      [1, ['no', 'name']],
      [2, ['1', 'Ann']],
      [3, ['2', 'Ben']],
      // csv-parse counts the CR and the LF inside quotes as a line each (as the clean reader does).
      [6, ['3', 'C\r\nid']],
      [7, ['4', 'Dee']],
    ];
    for (const piece of [1, 2, 3, 8, text.length]) expect(await records(text, piece), `pieces of ${piece}`).toEqual(expected);
  });
});
