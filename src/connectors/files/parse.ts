import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse, type Options } from 'csv-parse';
import type { FileEncoding, FileFormat, FileSource } from '../../api/files.js';
import { CleanCsvReader, type CsvRecordHandler } from './csv-clean.js';
import { MAX_RECORD_BYTES, quotingLooksClean } from './csv-quotes.js';
import { InvalidFileError } from './decode.js';
import { encodingName, holdsInvalidByte, holdsInvalidBytes, invalidValueAt, textOf, textPieces, utf16Pieces, type TextSeen } from './text.js';

export interface CsvDialect {
  delimiter: string;
  quote: string;
  header: boolean;
  encoding: FileEncoding;
  emptyIsNull: boolean;
}

/** The CSV dialect an entity's file block declares, with its defaults. */
export function dialectOf(file: FileSource): CsvDialect {
  return {
    delimiter: file.csv?.delimiter ?? ',',
    quote: file.csv?.quote ?? '"',
    header: file.csv?.header ?? true,
    encoding: file.csv?.encoding ?? 'UTF-8',
    emptyIsNull: file.csv?.emptyIsNull ?? true,
  };
}

/**
 * Takes a file's records as they are read, each as the values of the sink's `columns` (undefined:
 * the CSV file's header has no such column; a key a JSON object leaves out is null) in an array
 * reused for the next record, or as the reason it cannot be read. Called synchronously while a piece
 * of the file is read: no object per record between the text and what the sink makes of it.
 */
export interface RecordSink {
  readonly columns: readonly string[];
  record(values: readonly (string | null | undefined)[], line: number): void;
  problem(line: number, reason: string): void;
}


/**
 * The column names a file gives: a CSV file's header row, or the names of a JSON Lines file's first
 * object; undefined when the file has none.
 */
export async function fileColumnNames(path: string, format: FileFormat, dialect: CsvDialect): Promise<string[] | undefined> {
  if (format === 'Csv') {
    // The header only: csv-parse stops after the first record instead of parsing the whole first piece.
    for await (const { record } of parsedCsv(path, dialect, 1)) return record.map((v) => v ?? '');
    // Not an empty table: a file without its header is no file of this dialect (an export that failed).
    throw new InvalidFileError('the file is empty: no header row');
  }
  for await (const record of jsonLinesRecords(path, dialect.encoding)) if ('fields' in record) return [...record.fields.keys()];
  return undefined;
}

/**
 * How csv-parse reads a dialect: a quote is doubled inside a quoted field, an unquoted empty field is
 * null when asked, and a record ends at any line break. Left to itself, csv-parse takes the first
 * line's break for all: after a first CRLF, a line ending in LF alone ran on into the next record.
 */
export function csvOptions(dialect: CsvDialect): Options {
  return {
    delimiter: dialect.delimiter,
    quote: dialect.quote,
    escape: dialect.quote,
    // CRLF before CR: the longer break is tried first.
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    skip_empty_lines: true,
    // A record past the limit (an unclosed quote in a large file) fails the parse instead of filling memory.
    max_record_size: MAX_RECORD_BYTES,
    info: true,
    cast: (value, context) => (dialect.emptyIsNull && value === '' && !context.quoting ? (null as unknown as string) : value),
  };
}

/** csv-parse's records (with `records`, only that many), for text whose quoting the byte scan could not vouch for. */
function parsedCsv(path: string, dialect: CsvDialect, records?: number, seen?: TextSeen): AsyncIterable<{ record: (string | null)[]; info: { lines: number } }> {
  // csv-parse reads bytes, and UTF-8 has no bytes for the marks of invalid bytes (lone surrogates:
  // it would make them U+FFFD again); UTF-16 keeps them. Only for a file that holds such bytes.
  const wide = seen?.invalidBytes === true;
  const text = wide ? Readable.from(utf16Pieces(textPieces(path, dialect.encoding, seen))) : textOf(path, dialect.encoding, seen);
  const options = csvOptions(dialect);
  const parser = text.pipe(parse({ ...options, ...(wide ? { encoding: 'utf16le', max_record_size: 2 * MAX_RECORD_BYTES } : {}), ...(records ? { to: records } : {}) }));
  // The parser may stop before the end of the text (`records`, an error, a reader that stops): close the file then.
  parser.once('close', () => text.destroy());
  return parser;
}

/**
 * A CSV file's records into `sink`, yielding after each piece of the file (csv-parse's: each
 * record) the file's bytes it read (csv-parse's: 0, not told); without `columns`, the header row
 * names them. `clean`: `checkSyntax` found its quoting clean, so `CleanCsvReader` reads it.
 */
async function* csvRecords(path: string, dialect: CsvDialect, columns: string[] | undefined, clean: boolean, sink: RecordSink): AsyncGenerator<number> {
  const view: (string | null | undefined)[] = sink.columns.map(() => undefined);
  // Where each column the sink reads stands in a record (-1: nowhere); a column named twice gives its last value.
  let names: string[] | undefined;
  let at: number[] = [];
  const named = (given: string[]) => {
    names = given;
    at = sink.columns.map((column) => given.lastIndexOf(column));
    const wanted = given.map(() => false);
    for (const i of at) if (i >= 0) wanted[i] = true;
    return wanted;
  };
  const reader = clean ? new CleanCsvReader(dialect.delimiter, dialect.quote, dialect.emptyIsNull) : undefined;
  // Once bytes that are no character of the encoding were met, every field is read and looked at: a record holding them is rejected.
  const seen: TextSeen = { invalidBytes: false };
  let checking = false;
  // Without a header row the declared columns name the fields, for either reader: `named` runs
  // whether or not there is a `CleanCsvReader` to tell which fields it wants.
  if (!dialect.header && columns) {
    const wanted = named(columns);
    reader?.want(wanted);
  }
  const take: CsvRecordHandler = (fields, count, line) => {
    if (!names) {
      const wanted = named(fields.slice(0, count).map((v) => v ?? ''));
      if (!checking) reader?.want(wanted);
      return;
    }
    if (count !== names.length) return sink.problem(line, `${count} fields, expected ${names.length}`);
    if (checking) {
      const invalid = invalidValueAt(fields, count);
      if (invalid >= 0) return sink.problem(line, `not valid ${encodingName(dialect.encoding)} (column ${names[invalid]})`);
    }
    for (let i = 0; i < at.length; i++) view[i] = at[i]! < 0 ? undefined : fields[at[i]!];
    sink.record(view, line);
  };
  if (!reader) {
    // Told before the parse: csv-parse must then read the text as UTF-16.
    if (dialect.encoding !== 'ISO-8859-1') seen.invalidBytes = await holdsInvalidBytes(path, dialect.encoding);
    for await (const { record, info } of parsedCsv(path, dialect, undefined, seen)) {
      checking = seen.invalidBytes;
      take(record, record.length, info.lines);
      yield 0;
    }
    return;
  }
  for await (const { text, bytes } of textPieces(path, dialect.encoding, seen)) {
    if (seen.invalidBytes && !checking) {
      checking = true;
      reader.want(undefined);
    }
    reader.push(text, take);
    yield bytes;
  }
  reader.end(take);
  yield 0;
}

function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** An integer JSON.parse could not hold exactly (past 2^53): its digits are already rounded. */
const inexact = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value);

/** The longest JSON Lines line read, in characters: a longer one is rejected, not held in memory. */
const MAX_LINE_CHARACTERS = MAX_RECORD_BYTES;

/**
 * The lines of a text (ending at CRLF, LF or CR, as readline ends them), each with its number; a
 * line longer than `MAX_LINE_CHARACTERS` is given as undefined, its text dropped as it is read.
 */
async function* linesOf(pieces: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string | undefined }> {
  let line = 0;
  let held: string[] = [];
  let length = 0;
  let tooLong = false;
  // The last piece ended with a CR: an LF that begins the next one belongs to it.
  let afterCr = false;
  // One per reader: its place (lastIndex) must survive the yields, while other files are read.
  const lineEnd = /\r\n|\n|\r/g;
  const take = (text: string) => {
    if (tooLong) return;
    length += text.length;
    if (length > MAX_LINE_CHARACTERS) {
      tooLong = true;
      held = [];
    } else if (text.length > 0) held.push(text);
  };
  const ended = () => {
    const text = tooLong ? undefined : held.length === 1 ? held[0]! : held.join('');
    held = [];
    length = 0;
    tooLong = false;
    return { line: ++line, text };
  };
  for await (const piece of pieces) {
    let from = afterCr && piece.charCodeAt(0) === 10 ? 1 : 0;
    afterCr = false;
    lineEnd.lastIndex = from;
    for (let end = lineEnd.exec(piece); end; end = lineEnd.exec(piece)) {
      take(piece.slice(from, end.index));
      yield ended();
      from = lineEnd.lastIndex;
      if (end[0] === '\r' && from === piece.length) afterCr = true;
    }
    take(piece.slice(from));
  }
  if (length > 0 || tooLong) yield ended();
}

/** A JSON Lines file's objects (their values as parsed), or the reason a line is none. */
async function* jsonLinesRecords(path: string, encoding: FileEncoding): AsyncGenerator<{ line: number; fields: Map<string, unknown> } | { line: number; problem: string }> {
  const seen: TextSeen = { invalidBytes: false };
  const input = textOf(path, encoding, seen);
  try {
    for await (const { line, text } of linesOf(input)) {
      if (text === undefined) {
        yield { line, problem: `a line longer than ${MAX_LINE_CHARACTERS >> 20} MiB` };
        continue;
      }
      if (text.trim() === '') continue;
      if (seen.invalidBytes && holdsInvalidByte(text)) {
        yield { line, problem: `not valid ${encodingName(encoding)}` };
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        yield { line, problem: `not JSON (${(error as Error).message})` };
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        yield { line, problem: 'not a JSON object' };
        continue;
      }
      yield { line, fields: new Map(Object.entries(value)) };
    }
  } finally {
    // A reader that stops early (the first record's names) leaves the file open otherwise.
    input.destroy();
  }
}

/**
 * A JSON Lines file's records into `sink`, yielding after each line (0 bytes read: not told). A key
 * an object leaves out is null, as `null` is: JSON objects omit what they have no value for, and a
 * JSON Lines file has no header to say which columns it holds (undefined, "the file has no such
 * column", is a CSV header's to say). A key part left out is then a missing key, rejected with its line.
 */
async function* jsonRecords(path: string, encoding: FileEncoding, sink: RecordSink): AsyncGenerator<number> {
  const view: (string | null | undefined)[] = sink.columns.map(() => null);
  for await (const record of jsonLinesRecords(path, encoding)) {
    if ('problem' in record) sink.problem(record.line, record.problem);
    else {
      const rounded = sink.columns.find((column) => inexact(record.fields.get(column)));
      if (rounded !== undefined) {
        const value = record.fields.get(rounded) as number;
        sink.problem(record.line, `the number ${value} in column ${rounded} is past what a JSON number holds exactly (2^53): write it as a string`);
      } else {
        for (let i = 0; i < view.length; i++) view[i] = jsonText(record.fields.get(sink.columns[i]!));
        sink.record(view, record.line);
      }
    }
    yield 0;
  }
}

/**
 * Reads the records of a plain (decrypted, decompressed) file into `sink`, streaming: it yields
 * after each piece of the file (one async step per piece, not per record), so the caller can take
 * what the sink made of it, and how many of the file's bytes the piece held (0 where the reader
 * does not tell): the share of the file read. `clean`: `checkSyntax` found the file's quoting clean.
 */
export function readRecords(path: string, format: FileFormat, dialect: CsvDialect, columns: string[] | undefined, clean: boolean, sink: RecordSink): AsyncGenerator<number> {
  return format === 'Csv' ? csvRecords(path, dialect, columns, clean, sink) : jsonRecords(path, dialect.encoding, sink);
}

/**
 * Reads a whole plain file once and says what stops it from being parsed to its end (an unclosed
 * quote, a stray quote): such a file is invalid as a whole, and this runs before any of its rows is
 * read for the engine. Rows that parse but do not fit (field count, types) are rejected one by one
 * later. `clean`: the quoting is plain, so its records can be read with `CleanCsvReader`. `scanned`:
 * the verdict of a `QuotingScan` that already saw the whole file (while it was decoded).
 */
export async function checkSyntax(path: string, format: FileFormat, dialect: CsvDialect, scanned?: 'clean' | 'unsure'): Promise<{ clean: boolean; problem?: string }> {
  if (format !== 'Csv') return { clean: false };
  // Most files quote plainly; a byte scan tells so at a fraction of a parse's cost.
  const quoting = scanned ?? (await quotingLooksClean(createReadStream(path, { highWaterMark: 1 << 20 }), dialect.delimiter, dialect.quote));
  if (quoting === 'clean') return { clean: true };
  try {
    for await (const _record of parsedCsv(path, dialect));
    return { clean: false };
  } catch (error) {
    return { clean: false, problem: `not valid CSV (${(error as Error).message})` };
  }
}

/** Notes whether a file holds a record that reads, and its first problem line while none did. */
class FirstRecord implements RecordSink {
  readonly columns: readonly string[] = [];
  found = false;
  problems = 0;
  first?: { line: number; reason: string };

  record(): void {
    this.found = true;
  }

  problem(line: number, reason: string): void {
    this.problems++;
    this.first ??= { line, reason };
  }
}

/**
 * Why a new snapshot file cannot stand for the table: it holds no record, or none that reads (every
 * line rejected, say after the partner changed the delimiter). Read as the whole table, it would
 * delete or archive every record: a partner's export that failed, unless `allowEmptySnapshot` says
 * an empty file is meant. Reads up to the first record that reads: a good file costs one piece of it.
 */
export async function emptySnapshotProblem(path: string, file: FileSource, dialect: CsvDialect, clean: boolean): Promise<string | undefined> {
  if (file.contents !== 'Snapshot' || file.allowEmptySnapshot) return undefined;
  const sink = new FirstRecord();
  const columns = file.columns?.map((c) => c.name);
  for await (const _piece of readRecords(path, file.format ?? 'Csv', dialect, columns, clean, sink)) if (sink.found) return undefined;
  if (sink.found) return undefined;
  const what = sink.first
    ? `none of its ${sink.problems} line${sink.problems === 1 ? '' : 's'} reads as a record (line ${sink.first.line}: ${sink.first.reason})`
    : 'it holds no records';
  return `${what}, so as a snapshot it would delete every record; set source.file.allowEmptySnapshot: true if an empty file is meant`;
}
