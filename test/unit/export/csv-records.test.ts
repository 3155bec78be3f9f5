import { describe, expect, it } from 'vitest';
import { CsvRecordScanner } from '../../../src/export/csv-records.js';

const QUOTE = '"'.charCodeAt(0);

function scanAll(text: string, chunkSizes: number[], crlf = true) {
  const scanner = new CsvRecordScanner(QUOTE, crlf);
  const input = Buffer.from(text);
  const out: Buffer[] = [];
  let records = 0;
  let offset = 0;
  let i = 0;
  while (offset < input.length) {
    const size = chunkSizes[i++ % chunkSizes.length];
    const { data, ends } = scanner.scan(input.subarray(offset, offset + size));
    out.push(data);
    records += ends.length;
    for (const end of ends) expect(data.subarray(end - (crlf ? 2 : 1), end).toString()).toBe(crlf ? '\r\n' : '\n');
    offset += size;
  }
  return { text: Buffer.concat(out).toString(), records };
}

describe('CsvRecordScanner', () => {
  const postgres = '1,plain,x\n2,"two\nlines",y\n3,"a ""quoted"" word, and a comma","\n"\n4,"",\n';
  const rfc4180 = '1,plain,x\r\n2,"two\nlines",y\r\n3,"a ""quoted"" word, and a comma","\n"\r\n4,"",\r\n';

  it('turns record ends into CRLF and leaves line breaks inside quoted fields alone', () => {
    expect(scanAll(postgres, [1000])).toEqual({ text: rfc4180, records: 4 });
  });

  it('gives the same result however the input is chunked (quotes and newlines split across chunks)', () => {
    for (const sizes of [[1], [2], [3], [5, 1, 7], [13]]) expect(scanAll(postgres, sizes), sizes.join(',')).toEqual({ text: rfc4180, records: 4 });
  });

  it('only counts records when CRLF is off (JSON Lines)', () => {
    const jsonl = '{"a":"x\\ny"}\n{"a":2}\n';
    expect(scanAll(jsonl, [4], false)).toEqual({ text: jsonl, records: 2 });
  });
});
