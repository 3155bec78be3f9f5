import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileEncoding } from '../../../src/api/files.js';
import { checkSyntax, fileColumnNames, readRecords, type CsvDialect } from '../../../src/connectors/files/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-utf8-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const write = (bytes: Buffer) => {
  const path = join(dir, `${++files}.txt`);
  writeFileSync(path, bytes);
  return path;
};
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

const dialect = (encoding: FileEncoding = 'UTF-8'): CsvDialect => ({ delimiter: ';', quote: '"', header: true, encoding, emptyIsNull: true });
const PIECE = 1 << 16;

/** The records of a plain file, as `line:values` or `line!reason`, read by the clean reader and by csv-parse (CSV) or as JSON Lines. */
async function recordsOf(path: string, format: 'Csv' | 'JsonLines', encoding: FileEncoding = 'UTF-8', columns = ['no', 'name']): Promise<string[][]> {
  const read = async (clean: boolean) => {
    const out: string[] = [];
    const sink = {
      columns,
      record: (values: readonly (string | null | undefined)[], line: number) => void out.push(`${line}:${values.map((v) => (v && v.length > 40 ? `<${v.length}>` : v)).join(',')}`),
      problem: (line: number, reason: string) => void out.push(`${line}!${reason}`),
    };
    for await (const _ of readRecords(path, format, dialect(encoding), undefined, clean, sink));
    return out;
  };
  return format === 'Csv' ? [await read(true), await read(false)] : [await read(false)];
}

describe('bytes that are no UTF-8 in a UTF-8 file reject their line with the reason, instead of being replaced silently', () => {
  it('a stray byte, a cut character and an overlong form each reject their line; the other lines are read', async () => {
    const path = write(bytes('no;name\n1;Ann\n2;B', [0xff], 'n\n3;Ca', [0xc3], '\n4;D', [0xc0, 0xaf], 'e\n5;Zoë\n'));
    expect((await checkSyntax(path, 'Csv', dialect())).clean).toBe(true);
    for (const read of await recordsOf(path, 'Csv')) {
      expect(read).toEqual(['2:1,Ann', '3!not valid UTF-8 (column name)', '4!not valid UTF-8 (column name)', '5!not valid UTF-8 (column name)', '6:5,Zoë']);
    }
  });

  it('also in a column no one reads, and with a byte order mark', async () => {
    const path = write(bytes([0xef, 0xbb, 0xbf], 'no;name;extra\n1;Ann;x\n2;Ben;', [0xe9], 't\xe9\n'.replace('\xe9', 'é'), '3;Cid;z\n'));
    for (const read of await recordsOf(path, 'Csv', 'UTF-8-BOM')) expect(read).toEqual(['2:1,Ann', '3!not valid UTF-8 (column extra)', '4:3,Cid']);
  });

  it('a U+FFFD the file holds as UTF-8 (EF BF BD), surrogates pairs and a character cut between pieces are text as written', async () => {
    const lead = `no;name\n1;${'a'.repeat(PIECE - 'no;name\n1;'.length - 1)}`;
    const path = write(bytes(lead, '€\n2;\ufffd😀\n'));
    expect(Buffer.from(lead).length).toBe(PIECE - 1);
    for (const read of await recordsOf(path, 'Csv')) expect(read).toEqual([`2:1,<${PIECE - 'no;name\n1;'.length}>`, '3:2,\ufffd😀']);
  });

  it('an invalid byte where a piece ends, and a character the file ends inside', async () => {
    const lead = `no;name\n1;${'a'.repeat(PIECE - 'no;name\n1;'.length - 1)}`;
    const path = write(bytes(lead, [0xe2, 0x82], 'x\n2;ok\n3;', [0xe2, 0x82]));
    for (const read of await recordsOf(path, 'Csv')) expect(read).toEqual(['2!not valid UTF-8 (column name)', '3:2,ok', '4!not valid UTF-8 (column name)']);
  });

  it('CESU-8 surrogates (ED A0 80) are no UTF-8 either', async () => {
    const path = write(bytes('no;name\n1;', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '\n2;b\n'));
    for (const read of await recordsOf(path, 'Csv')) expect(read).toEqual(['2!not valid UTF-8 (column name)', '3:2,b']);
  });

  it('JSON Lines: the line is rejected', async () => {
    const path = write(bytes('{"no":"1","name":"a"}\n{"no":"2","name":"', [0xff], '"}\n{"no":"3","name":"c"}\n'));
    expect(await recordsOf(path, 'JsonLines')).toEqual([['1:1,a', '2!not valid UTF-8', '3:3,c']]);
  });

  it('ISO-8859-1 reads every byte as a character; Windows-1252 every byte but the five it leaves undefined (81, 8D, 8F, 90, 9D), which reject their line', async () => {
    const path = write(bytes('no;name\n1;', [0xe9, 0xff, 0x80], '\n2;', [0x81], 'x\n3;', [0x9d], '\n4;ok\n'));
    for (const read of await recordsOf(path, 'Csv', 'ISO-8859-1')) expect(read).toEqual(['2:1,éÿ\u0080', '3:2,\u0081x', '4:3,\u009d', '5:4,ok']);
    for (const read of await recordsOf(path, 'Csv', 'Windows-1252')) {
      expect(read).toEqual(['2:1,éÿ€', '3!not valid Windows-1252 (column name)', '4!not valid Windows-1252 (column name)', '5:4,ok']);
    }
    const json = write(bytes('{"no":"1","name":"', [0x8f], '"}\n{"no":"2","name":"', [0x80], '"}\n'));
    expect(await recordsOf(json, 'JsonLines', 'Windows-1252')).toEqual([['1!not valid Windows-1252', '2:2,€']]);
  });
});

describe('files with no records', () => {
  it('an empty file, or one of blank lines only, has no header row: refused when a header is expected', async () => {
    for (const text of ['', '\n\n\n', '\r\n\r\n', Buffer.from([0xef, 0xbb, 0xbf]).toString('latin1')]) {
      const path = write(Buffer.from(text, 'latin1'));
      await expect(fileColumnNames(path, 'Csv', dialect())).rejects.toThrow(/^the file is empty: no header row$/);
    }
  });

  it('a header-only file names its columns and has no records', async () => {
    const path = write(Buffer.from('no;name\n'));
    expect(await fileColumnNames(path, 'Csv', dialect())).toEqual(['no', 'name']);
    for (const read of await recordsOf(path, 'Csv')) expect(read).toEqual([]);
  });

  it('an empty JSON Lines file names no columns and has no records', async () => {
    const path = write(Buffer.alloc(0));
    expect(await fileColumnNames(path, 'JsonLines', dialect())).toBeUndefined();
    expect(await recordsOf(path, 'JsonLines')).toEqual([[]]);
  });
});

describe('JSON Lines values', () => {
  it('a byte order mark is dropped; an array, a scalar or null line is rejected; a nested value is its JSON text', async () => {
    const path = write(bytes([0xef, 0xbb, 0xbf], '{"no":"1","name":"a"}\n[1,2]\n42\n"x"\nnull\n{"no":"2","name":{"first":"B","tags":[1]}}\n'));
    expect(await fileColumnNames(path, 'JsonLines', dialect())).toEqual(['no', 'name']);
    expect(await recordsOf(path, 'JsonLines')).toEqual([['1:1,a', '2!not a JSON object', '3!not a JSON object', '4!not a JSON object', '5!not a JSON object', '6:2,{"first":"B","tags":[1]}']]);
  });

  it('an integer past 2^53 in a column read is rejected, not rounded (12345678901234567890 became 12345678901234567000); in a column not read, or as a string, it is kept', async () => {
    const path = write(
      Buffer.from(
        [
          '{"no":"1","name":9007199254740993}',
          '{"no":12345678901234567890,"name":"b"}',
          '{"no":"3","name":"c","other":12345678901234567890}',
          '{"no":"4","name":"12345678901234567890"}',
          '{"no":"5","name":-9007199254740991}',
          '{"no":"6","name":1.5e300}',
        ].join('\n'),
      ),
    );
    expect(await recordsOf(path, 'JsonLines')).toEqual([
      [
        '1!the number 9007199254740992 in column name is past what a JSON number holds exactly (2^53): write it as a string',
        '2!the number 12345678901234567000 in column no is past what a JSON number holds exactly (2^53): write it as a string',
        '3:3,c',
        '4:4,12345678901234567890',
        '5:5,-9007199254740991',
        '6!the number 1.5e+300 in column name is past what a JSON number holds exactly (2^53): write it as a string',
      ],
    ]);
  });
});
