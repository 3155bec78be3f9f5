/**
 * A plain file's bytes as text, for the CSV and JSON Lines readers: read in pieces, decoded per the
 * declared encoding, with bytes that are not valid in it marked (a lone surrogate) so that their
 * record is rejected instead of imported as U+FFFD.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import type { FileEncoding } from '../../api/files.js';

const ICONV_NAMES: Record<FileEncoding, string> = { 'UTF-8': 'utf8', 'UTF-8-BOM': 'utf8', 'Windows-1252': 'win1252', 'ISO-8859-1': 'latin1' };

/** The size of the pieces a plain file is read in. */
const PIECE = 1 << 18;
/**
 * The most bytes made into one string: a longer one is allocated in V8's large-object space, page by
 * fresh page (256 KiB pieces as strings cost ~270 ms per 80 MB, 64 KiB ones ~5 ms).
 */
const TEXT_PIECE = 1 << 16;

/**
 * The file's bytes as text, a piece at a time; a UTF-8 byte order mark is dropped. The pieces are
 * read into one buffer, reused (a read stream allocates one per piece, ~80 MB of short-lived Buffers
 * for a 1M-row file, and the mark-compacts they bring). A piece of ASCII bytes only, after a piece
 * that was ASCII too (so no cut character waits in the decoder), reads the same in every encoding
 * declared and becomes a string by a plain copy; any other piece goes through the decoder, which
 * keeps the bytes of a cut character for the next one. Each piece tells the file's bytes it came
 * from (the mark's with the first), so the pieces' bytes add up to the file's size.
 */
export async function* textPieces(path: string, encoding: FileEncoding, seen?: TextSeen): AsyncGenerator<{ text: string; bytes: number }> {
  // The mark is dropped here, not by the decoder: it would drop a U+FEFF that begins its first piece
  // wherever in the file that piece is.
  const decoder = decoderOf(encoding, seen);
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(PIECE);
    let first = true;
    let afterAscii = true;
    // Bytes read but not yet told: the mark's, and those of a piece the decoder kept whole (a cut character).
    let untold = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, PIECE, null);
      if (bytesRead === 0) break;
      const start = first && ICONV_NAMES[encoding] === 'utf8' && startsWithUtf8Mark(buffer, bytesRead) ? UTF8_MARK.length : 0;
      first = false;
      untold += start;
      for (let at = start; at < bytesRead; at += TEXT_PIECE) {
        const piece = buffer.subarray(at, Math.min(at + TEXT_PIECE, bytesRead));
        const ascii = isAscii(piece);
        const text = ascii && afterAscii ? piece.toString('latin1') : decoder.write(piece);
        afterAscii = ascii;
        untold += piece.length;
        if (text.length === 0) continue;
        yield { text, bytes: untold };
        untold = 0;
      }
    }
    const rest = decoder.end() ?? '';
    if (rest !== '' || untold > 0) yield { text: rest, bytes: untold };
  } finally {
    await file.close();
  }
}

const UTF8_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** What the decoding of a file's text found so far. */
export interface TextSeen {
  /** Bytes that are no character of the encoding were met: their text holds `INVALID_BYTE` marks. */
  invalidBytes: boolean;
}

/** Where an invalid byte B stands in the text: U+DC00 + B, a lone low surrogate (U+DC80 to U+DCFF), which no UTF-8 decodes to. */
const INVALID_BYTE = 0xdc00;

/** The length of the UTF-8 sequence at `i` when it is complete and valid (no overlong form, surrogate or code point past U+10FFFF), else 0. */
function sequenceAt(bytes: Uint8Array, i: number): number {
  const c = bytes[i]!;
  const next = (k: number, low = 0x80, high = 0xbf) => i + k < bytes.length && bytes[i + k]! >= low && bytes[i + k]! <= high;
  if (c >= 0xc2 && c <= 0xdf) return next(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) return next(1, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf) && next(2) ? 3 : 0;
  if (c >= 0xf0 && c <= 0xf4) return next(1, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf) && next(2) && next(3) ? 4 : 0;
  return 0;
}

/** UTF-8 bytes as text, each byte that is not part of a valid character as its `INVALID_BYTE` mark. */
function markedUtf8(bytes: Buffer): string {
  let text = '';
  let from = 0;
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i]! < 0x80) {
      i++;
      continue;
    }
    const length = sequenceAt(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', from, i) + String.fromCharCode(INVALID_BYTE + bytes[i]!);
    from = ++i;
  }
  return text + bytes.toString('utf8', from);
}

/** Where an incomplete character at the end of `bytes` begins (its bytes wait for the next piece); `bytes.length` when none. */
function cutCharacterAt(bytes: Buffer): number {
  for (let k = 1; k <= 3 && k <= bytes.length; k++) {
    const c = bytes[bytes.length - k]!;
    if ((c & 0xc0) === 0x80) continue;
    const wanted = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return wanted > k ? bytes.length - k : bytes.length;
  }
  return bytes.length;
}

/**
 * A streaming UTF-8 decoder that keeps bytes which are no UTF-8 visible: iconv (and Node) replace
 * them with U+FFFD, which a file may also hold as text, so a line with them could not be told and
 * would be imported changed. Valid pieces are decoded natively (one check, one copy).
 */
class MarkingUtf8Decoder {
  /** The first bytes of a character cut by the end of the last piece. */
  private cut: Buffer = Buffer.alloc(0);

  /** `text`: false when only `seen` matters (no text is made). */
  constructor(
    private readonly seen?: TextSeen,
    private readonly text = true,
  ) {}

  write(piece: Buffer): string {
    let head = '';
    let from = 0;
    if (this.cut.length > 0) {
      // The cut character's other bytes begin this piece (or they are missing: its bytes are invalid).
      const wanted = this.cut[0]! >= 0xf0 ? 4 : this.cut[0]! >= 0xe0 ? 3 : 2;
      while (from < piece.length && this.cut.length + from < wanted && (piece[from]! & 0xc0) === 0x80) from++;
      const joined = Buffer.concat([this.cut, piece.subarray(0, from)]);
      if (joined.length < wanted && from === piece.length) {
        this.cut = joined;
        return '';
      }
      this.cut = Buffer.alloc(0);
      head = this.decoded(joined);
    }
    const end = cutCharacterAt(piece);
    if (end < piece.length) this.cut = Buffer.from(piece.subarray(end));
    return head + this.decoded(piece.subarray(from, end));
  }

  end(): string {
    const rest = this.cut.length > 0 ? this.decoded(this.cut) : '';
    this.cut = Buffer.alloc(0);
    return rest;
  }

  private decoded(bytes: Buffer): string {
    if (isUtf8(bytes)) return this.text ? bytes.toString('utf8') : '';
    if (this.seen) this.seen.invalidBytes = true;
    return this.text ? markedUtf8(bytes) : '';
  }
}

/** The bytes Windows-1252 leaves undefined (iconv, as Node, would make them U+FFFD). */
const UNDEFINED_IN_1252 = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

/** A Windows-1252 decoder that marks the bytes the encoding leaves undefined (one byte, one character: the marks stand where the bytes were). */
class Marking1252Decoder {
  private readonly decoder = iconv.getDecoder('win1252', { stripBOM: false });

  constructor(
    private readonly seen?: TextSeen,
    private readonly text = true,
  ) {}

  write(piece: Buffer): string {
    const invalid = UNDEFINED_IN_1252.some((b) => piece.includes(b));
    if (!invalid) return this.text ? this.decoder.write(piece) : '';
    if (this.seen) this.seen.invalidBytes = true;
    if (!this.text) return '';
    const text = this.decoder.write(piece);
    let marked = '';
    let from = 0;
    for (let i = 0; i < piece.length; i++) {
      if (!UNDEFINED_IN_1252.includes(piece[i]!)) continue;
      marked += text.slice(from, i) + String.fromCharCode(INVALID_BYTE + piece[i]!);
      from = i + 1;
    }
    return marked + text.slice(from);
  }

  end(): string {
    return this.decoder.end() ?? '';
  }
}

/** A decoder for `encoding` whose text marks bytes that are no character of it (ISO-8859-1 has none). */
function decoderOf(encoding: FileEncoding, seen?: TextSeen, text = true): { write(piece: Buffer): string; end(): string | undefined } {
  if (ICONV_NAMES[encoding] === 'utf8') return new MarkingUtf8Decoder(seen, text);
  if (encoding === 'Windows-1252') return new Marking1252Decoder(seen, text);
  return iconv.getDecoder(ICONV_NAMES[encoding], { stripBOM: false });
}

export const encodingName = (encoding: FileEncoding) => (encoding === 'UTF-8-BOM' ? 'UTF-8' : encoding);

/** The first of `count` values holding an `INVALID_BYTE` mark (a lone low surrogate of its range), or -1. */
export function invalidValueAt(values: readonly (string | null | undefined)[], count: number): number {
  for (let i = 0; i < count; i++) if (holdsInvalidByte(values[i])) return i;
  return -1;
}

export function holdsInvalidByte(text: string | null | undefined): boolean {
  if (!text) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= INVALID_BYTE + 0x80 && c <= INVALID_BYTE + 0xff && !(i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) return true;
  }
  return false;
}

function startsWithUtf8Mark(buffer: Buffer, length: number): boolean {
  return length >= UTF8_MARK.length && buffer[0] === UTF8_MARK[0] && buffer[1] === UTF8_MARK[1] && buffer[2] === UTF8_MARK[2];
}

export async function* utf16Pieces(pieces: AsyncIterable<{ text: string }>): AsyncGenerator<Buffer> {
  for await (const { text } of pieces) if (text.length > 0) yield Buffer.from(text, 'utf16le');
}

/** Whether the file at `path` holds bytes that are no character of `encoding` (read with native checks only, no text made). */
export async function holdsInvalidBytes(path: string, encoding: FileEncoding): Promise<boolean> {
  const seen: TextSeen = { invalidBytes: false };
  const decoder = decoderOf(encoding, seen, false);
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(PIECE);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, PIECE, null);
      if (bytesRead === 0) break;
      decoder.write(buffer.subarray(0, bytesRead));
      if (seen.invalidBytes) return true;
    }
    decoder.end();
    return seen.invalidBytes;
  } finally {
    await file.close();
  }
}

/** `textPieces` as a stream, for csv-parse and the JSON Lines reader (destroying it closes the file). */
export function textOf(path: string, encoding: FileEncoding, seen?: TextSeen): Readable {
  return Readable.from(textsOf(textPieces(path, encoding, seen)));
}

async function* textsOf(pieces: AsyncIterable<{ text: string }>): AsyncGenerator<string> {
  for await (const { text } of pieces) if (text.length > 0) yield text;
}
