import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, QuotingScan } from '../../../src/connectors/files/csv-quotes.js';
import { checkSyntax, readRecords, type CsvDialect } from '../../../src/connectors/files/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-long-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const write = (text: string | Buffer) => {
  const path = join(dir, `${++files}.txt`);
  writeFileSync(path, text);
  return path;
};

const DIALECT: CsvDialect = { delimiter: ';', quote: '"', header: true, encoding: 'UTF-8', emptyIsNull: true };
const MiB = 1 << 20;

/** The quoting scan's verdict on `text` fed in pieces of `piece` bytes (the decoder's pieces, or smaller). */
function scanned(text: string | Buffer, piece = 1 << 18): 'clean' | 'unsure' {
  const bytes = Buffer.from(text);
  const scan = new QuotingScan(';', '"');
  for (let at = 0; at < bytes.length; at += piece) scan.push(bytes.subarray(at, at + piece));
  return scan.verdict();
}

/** The records of a plain file (by the reader `checkSyntax` picks), as `line:values` or `line!reason`. */
async function recordsOf(path: string, format: 'Csv' | 'JsonLines'): Promise<string[]> {
  const syntax = await checkSyntax(path, format, DIALECT);
  if (syntax.problem) return [`invalid: ${syntax.problem}`];
  const out: string[] = [];
  const sink = {
    columns: ['no', 'name'],
    record: (values: readonly (string | null | undefined)[], line: number) => void out.push(`${line}:${values.map((v) => (v && v.length > 40 ? `<${v.length}>` : v)).join(',')}`),
    problem: (line: number, reason: string) => void out.push(`${line}!${reason}`),
  };
  for await (const _ of readRecords(path, format, DIALECT, undefined, syntax.clean, sink));
  return out;
}

describe('a CSV record longer than MAX_RECORD_BYTES makes the file invalid, without holding it in memory', () => {
  it('is 16 MiB', () => expect(MAX_RECORD_BYTES).toBe(16 * MiB));

  it('the quoting scan is unsure of a record past the limit: one long unquoted field, one long quoted field, a quote that never closes', () => {
    const long = 'x'.repeat(MAX_RECORD_BYTES + 10);
    for (const [what, text] of [
      ['unquoted', `no;name\n1;${long}\n2;b\n`],
      ['quoted', `no;name\n1;"${long}"\n2;b\n`],
      ['quoted, lines inside', `no;name\n1;"${long.replace(/x{999}/g, (m) => `${m}\n`)}"\n2;b\n`],
      ['unclosed', `no;name\n1;"${long}\n2;b\n`],
    ]) {
      expect([what, scanned(text!)]).toEqual([what, 'unsure']);
    }
  });

  it('the scan stays clean for records just under the limit and for a long file of short records, quoted fields across pieces', () => {
    const under = 'x'.repeat(MAX_RECORD_BYTES - 4 * (1 << 16));
    expect(scanned(`no;name\n1;${under}\n2;b\n`)).toBe('clean');
    expect(scanned(`no;name\n1;"${under}"\n2;b\n`)).toBe('clean');
    // Lines without quotes are skipped over without looking at their line ends: they must not add up to one record.
    const plain = Array.from({ length: 600_000 }, (_, i) => `${i};Person ${i}`).join('\n');
    const quoted = Array.from({ length: 600_000 }, (_, i) => `${i};"Person\n${i}"`).join('\n');
    expect(plain.length + quoted.length).toBeGreaterThan(MAX_RECORD_BYTES);
    for (const piece of [1 << 18, 4093]) {
      expect(scanned(`no;name\n${plain}\n${quoted}\n`, piece)).toBe('clean');
      expect(scanned(`no;name\r\n${plain.replaceAll('\n', '\r\n')}\r\n`, piece)).toBe('clean');
    }
  });

  it('the full parse refuses such a file, naming the limit; the rows before it are never read for the engine', async () => {
    const long = 'x'.repeat(MAX_RECORD_BYTES + 10);
    for (const text of [`no;name\n1;a\n2;"${long}"\n3;c\n`, `no;name\n1;a\n2;${long}\n3;c\n`, `no;name\n1;a\n2;"${long}\n3;c\n`]) {
      expect(await recordsOf(write(text), 'Csv')).toEqual([expect.stringMatching(/^invalid: not valid CSV \(Max Record Size: .* of 16777216 at line 3/)]);
    }
  }, 60_000);

  it('a record under the limit, quoted over many pieces, is read whole', async () => {
    const value = 'y'.repeat(2 * MiB);
    expect(await recordsOf(write(`no;name\n1;"${value}"\n2;b\n`), 'Csv')).toEqual([`2:1,<${value.length}>`, '3:2,b']);
  }, 60_000);
});

describe('a JSON Lines line longer than the limit is rejected with its line; the lines after it are read', () => {
  it('a long line among short ones, and a long last line without a line end', async () => {
    const long = 'z'.repeat(MAX_RECORD_BYTES + 10);
    const text = `{"no":"1","name":"a"}\n{"no":"2","name":"${long}"}\r\n{"no":"3","name":"c"}\n{"no":"4","name":"${long}`;
    expect(await recordsOf(write(text), 'JsonLines')).toEqual(['1:1,a', '2!a line longer than 16 MiB', '3:3,c', '4!a line longer than 16 MiB']);
  }, 60_000);

  it('lines end at LF, CRLF or CR (a CRLF cut between two pieces is one end), as readline ended them', async () => {
    const pad = 'p'.repeat((1 << 16) - '{"no":"1","name":"'.length - '"}'.length - 1);
    // The CR ends one piece of text, its LF begins the next.
    const text = `{"no":"1","name":"${pad}"}\r\n{"no":"2","name":"b"}\r{"no":"3","name":"c"}\n\n{"no":"4","name":"d"}`;
    expect(text.indexOf('\r')).toBe((1 << 16) - 1);
    expect(await recordsOf(write(text), 'JsonLines')).toEqual([`1:1,<${pad.length}>`, '2:2,b', '3:3,c', '5:4,d']);
  });
});

describe('JSON Lines files read side by side (a key census pass beside the read, two entities)', () => {
  it('each reader keeps its own place in its lines', async () => {
    const file = (tag: string) => write(Array.from({ length: 50 }, (_, i) => `{"no":"${tag}${i}","name":"${'n'.repeat(i)}"}`).join('\n') + '\n');
    const [a, b] = [file('a'), file('b')];
    const got: Record<string, string[]> = { a: [], b: [] };
    const reader = (path: string, tag: string) => {
      const sink = { columns: ['no'], record: (values: readonly (string | null | undefined)[], line: number) => void got[tag]!.push(`${line}:${values[0]}`), problem: (line: number, reason: string) => void got[tag]!.push(`${line}!${reason}`) };
      return readRecords(path, 'JsonLines', DIALECT, undefined, false, sink)[Symbol.asyncIterator]();
    };
    const [ra, rb] = [reader(a, 'a'), reader(b, 'b')];
    // Taken in turn, one record each.
    for (let done = [false, false]; !(done[0] && done[1]); ) {
      if (!done[0]) done[0] = (await ra.next()).done === true;
      if (!done[1]) done[1] = (await rb.next()).done === true;
    }
    for (const tag of ['a', 'b']) expect(got[tag]).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 1}:${tag}${i}`));
  });
});
