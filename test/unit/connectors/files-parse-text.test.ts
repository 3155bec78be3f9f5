import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileEncoding } from '../../../src/api/files.js';
import { fileColumnNames, readRecords, type CsvDialect } from '../../../src/connectors/files/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-parse-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A new file in the test directory holding `bytes`; its path. */
function write(bytes: Buffer): string {
  const path = join(dir, `${++files}.csv`);
  writeFileSync(path, bytes);
  return path;
}

/** The size of the pieces parse.ts reads a file in (one buffer, reused), and of the pieces of text it makes of each. */
const PIECE = 1 << 18;
const TEXT_PIECE = 1 << 16;

const dialect = (encoding: FileEncoding): CsvDialect => ({ delimiter: ',', quote: '"', header: true, encoding, emptyIsNull: true });

/** Every record of the file at `path`, both ways parse.ts reads CSV (its clean reader, csv-parse). */
async function recordsOf(path: string, encoding: FileEncoding): Promise<{ clean: string[][]; parsed: string[][] }> {
  const read = async (clean: boolean) => {
    const records: string[][] = [];
    const sink = {
      columns: ['id', 'name'],
      record: (values: readonly (string | null | undefined)[]) => void records.push(values.map((v) => v ?? '')),
      problem: (_line: number, reason: string) => void records.push(['rejected', reason]),
    };
    for await (const _ of readRecords(path, 'Csv', dialect(encoding), undefined, clean, sink));
    return records;
  };
  return { clean: await read(true), parsed: await read(false) };
}

describe('a plain file read in pieces of one reused buffer', () => {
  it('UTF-8 with a byte order mark: characters cut between two pieces stay whole, the first column keeps its name', async () => {
    // Multi-byte characters only (no ASCII but the separators); the first value's length is chosen so
    // that the first piece ends inside a character.
    const fileOf = (pad: number) => {
      const rows = Array.from({ length: 30_000 }, (_, i) => [String(i), (i === 0 ? 'é'.repeat(pad) : '') + '😀é€'.repeat(1 + (i % 7))]);
      return { rows, bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(['id,name', ...rows.map((r) => r.join(','))].join('\n') + '\n')]) };
    };
    const cutAt = (bytes: Buffer, at: number) => (bytes[at]! & 0xc0) === 0x80;
    const { rows, bytes } = [0, 1, 2, 3, 4, 5].map(fileOf).find((f) => cutAt(f.bytes, PIECE))!;
    expect(bytes.length).toBeGreaterThan(4 * PIECE);
    const path = write(bytes);
    expect(await fileColumnNames(path, 'Csv', dialect('UTF-8-BOM'))).toEqual(['id', 'name']);
    const { clean, parsed } = await recordsOf(path, 'UTF-8-BOM');
    expect(clean).toEqual(rows);
    expect(parsed).toEqual(rows);
  });

  it('Windows-1252 and ISO-8859-1: every record of a file of many pieces, as written', async () => {
    for (const [encoding, text] of [['Windows-1252', 'café €5'], ['ISO-8859-1', 'Straße ½']] as const) {
      const rows = Array.from({ length: 60_000 }, (_, i) => [String(i), `${text} ${i}`]);
      const bytes = iconv.encode(['id,name', ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n', encoding === 'Windows-1252' ? 'win1252' : 'latin1');
      expect(bytes.length).toBeGreaterThan(4 * PIECE);
      const path = write(bytes);
      const { clean, parsed } = await recordsOf(path, encoding);
      expect([encoding, clean.length, parsed.length]).toEqual([encoding, rows.length, rows.length]);
      expect(clean).toEqual(rows);
      expect(parsed).toEqual(rows);
    }
  });
});

describe('pieces of ASCII only become text by a copy, the others through the decoder', () => {
  const header = Buffer.from('id,name\n');

  // Cut where one read ends and the next begins, and where one piece of text ends inside a read.
  it.each([2 * PIECE, PIECE + TEXT_PIECE])('a character cut between two pieces (at byte %i), then pieces of ASCII after it: every value as written', async (cut) => {
    // ASCII up to the cut, which falls between the two bytes of "é"; ASCII after it, over several pieces.
    const first = `1,${'a'.repeat(cut - 1 - header.length - 2)}é\n`;
    const second = `2,${'c'.repeat(3 * PIECE)}\n`;
    const bytes = Buffer.concat([header, Buffer.from(first + second + '3,end\n')]);
    expect(bytes[cut - 1]).toBe(0xc3);
    expect(bytes.length).toBeGreaterThan(4 * PIECE);
    const { clean, parsed } = await recordsOf(write(bytes), 'UTF-8');
    const rows = [['1', first.slice(2, -1)], ['2', second.slice(2, -1)], ['3', 'end']];
    expect(clean).toEqual(rows);
    expect(parsed).toEqual(rows);
  });

  it('a piece of ASCII after a piece that ends inside an invalid character: the invalid byte is not lost, its line is rejected', async () => {
    const lead = Buffer.concat([header, Buffer.from(`1,${'a'.repeat(2 * PIECE - 1 - header.length - 2)}`), Buffer.from([0xc3])]);
    expect(lead.length).toBe(2 * PIECE);
    const bytes = Buffer.concat([lead, Buffer.from(`x\n2,${'b'.repeat(PIECE)}\n`)]);
    const { clean, parsed } = await recordsOf(write(bytes), 'UTF-8');
    const rows = [['rejected', 'not valid UTF-8 (column name)'], ['2', 'b'.repeat(PIECE)]];
    expect(clean).toEqual(rows);
    expect(parsed).toEqual(rows);
  });

  it('the byte order mark is dropped at the start of the file only, not where the decoder first reads', async () => {
    // After the mark, piece 0 is ASCII; piece 1, the first the decoder reads, begins with U+FEFF (a value's character).
    const mark = Buffer.from([0xef, 0xbb, 0xbf]);
    const value = `${'a'.repeat(PIECE - mark.length - header.length - 2)}\ufeffz`;
    const bytes = Buffer.concat([mark, header, Buffer.from(`1,${value}\n2,${'b'.repeat(10)}\n`)]);
    expect([...bytes.subarray(PIECE, PIECE + 3)]).toEqual([...mark]);
    const path = write(bytes);
    expect(await fileColumnNames(path, 'Csv', dialect('UTF-8'))).toEqual(['id', 'name']);
    const { clean, parsed } = await recordsOf(path, 'UTF-8');
    const rows = [['1', value], ['2', 'b'.repeat(10)]];
    expect(clean).toEqual(rows);
    expect(parsed).toEqual(rows);
  });
});

describe('each piece tells the bytes of the file it read (the share of the file a snapshot key check foresees by)', () => {
  /** The sum of what the clean reader yields after its pieces. */
  const bytesTold = async (path: string, encoding: FileEncoding) => {
    let told = 0;
    const sink = { columns: ['id', 'name'], record: () => {}, problem: () => {} };
    for await (const bytes of readRecords(path, 'Csv', dialect(encoding), undefined, true, sink)) told += bytes;
    return told;
  };

  it('UTF-8 with a mark and many multi-byte characters, cut between pieces: the file size, not its characters', async () => {
    const body = Array.from({ length: 40_000 }, (_, i) => `${i},${'€😀é'.repeat(1 + (i % 5))}`).join('\n') + '\n';
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`id,name\n${body}`)]);
    expect(bytes.length).toBeGreaterThan(4 * PIECE);
    // Characters (UTF-16 units) are far fewer than bytes here: counting them would tell ~55% of the file read at its end.
    expect(`id,name\n${body}`.length).toBeLessThan(0.6 * bytes.length);
    expect(await bytesTold(write(bytes), 'UTF-8-BOM')).toBe(bytes.length);
  });

  it('a file of a mark alone, and a file ending inside a character: every byte told', async () => {
    const mark = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await bytesTold(write(mark), 'UTF-8-BOM')).toBe(3);
    const cut = Buffer.concat([Buffer.from('id,name\n1,caf'), Buffer.from([0xc3])]);
    expect(await bytesTold(write(cut), 'UTF-8')).toBe(cut.length);
  });

  it('Windows-1252: one byte a character, the file size', async () => {
    const bytes = iconv.encode(['id,name', ...Array.from({ length: 50_000 }, (_, i) => `${i},café €${i}`)].join('\r\n') + '\r\n', 'win1252');
    expect(bytes.length).toBeGreaterThan(2 * PIECE);
    expect(await bytesTold(write(bytes), 'Windows-1252')).toBe(bytes.length);
  });
});
