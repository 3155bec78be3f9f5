/** Helpers for PostgreSQL's COPY text format (tab-separated, backslash escapes, \N for null). */

export const COPY_NULL = '\\N';

const UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Decodes one COPY text field into its value (null for \N). */
export function unescapeCopyField(field: string): string | null {
  if (field === COPY_NULL) return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, seq: string) => {
    if (seq[0] === 'x') return String.fromCharCode(parseInt(seq.slice(1), 16));
    if (/^[0-7]/.test(seq)) return String.fromCharCode(parseInt(seq, 8));
    return UNESCAPES[seq] ?? seq;
  });
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Encodes a value as a COPY text field (most values need no escape: a test is ~3x cheaper than a replace that finds nothing). */
export function escapeCopyField(value: string | null): string {
  if (value === null) return COPY_NULL;
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** The flag, in a table of ASCII characters' flags (`characterFlags`), of a character COPY text escapes. */
const ESCAPED = 0x80;

/**
 * Flags per ASCII character for `CopyData`: the caller's (bits below 0x80, e.g. which characters
 * another format quotes), plus COPY's own flag for the characters it escapes.
 */
export function characterFlags(flags: Record<string, number> = {}): Uint8Array {
  const table = new Uint8Array(128);
  for (const [c, flag] of Object.entries(flags)) table[c.charCodeAt(0)] = flag & ~ESCAPED;
  for (const c of [BACKSLASH, TAB, NEWLINE, 0x0d]) table[c] |= ESCAPED;
  return table;
}

const COPY_FLAGS = characterFlags();

/**
 * The bytes of a COPY's data, written field by field into one growing buffer. An ASCII field that
 * needs no escape (nearly all) is copied a character code at a time, so building the data of a
 * batch allocates nothing per row: a line built as a string is a dozen concatenations, garbage right
 * after, and a whole batch's string costs more to flatten and encode than it saves.
 */
export class CopyData {
  private bytes: Buffer;
  private size = 0;

  /**
   * `flags`: a table from `characterFlags`, whose flags `field` reports for the characters of each
   * field (one scan serves both); `size`: the bytes to start with (e.g. the size of the last batch's data).
   */
  constructor(
    private readonly flags = COPY_FLAGS,
    size = 64 * 1024,
  ) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  /**
   * Adds a field, escaped for COPY text (null as \N), then a tab, or the line's end after its last
   * field. Returns the flags of its characters, or'ed, when it was written as it is (ASCII that needs
   * no escape), else -1 (null, escaped, or not ASCII).
   */
  field(value: string | null, last = false): number {
    const flags = this.escaped(value);
    this.room(1);
    this.bytes[this.size++] = last ? NEWLINE : TAB;
    return flags;
  }

  /** Adds a field given as character codes of ASCII that needs no escape (the caller's word), then a tab or the line's end. */
  codesField(codes: readonly number[], last = false): void {
    const length = codes.length;
    this.room(length + 1);
    const bytes = this.bytes;
    let at = this.size;
    for (let i = 0; i < length; i++) bytes[at++] = codes[i]!;
    bytes[at++] = last ? NEWLINE : TAB;
    this.size = at;
  }

  private escaped(value: string | null): number {
    if (value === null) {
      this.room(2);
      this.bytes[this.size++] = BACKSLASH;
      this.bytes[this.size++] = 0x4e; // N
      return -1;
    }
    const length = value.length;
    this.room(length);
    const bytes = this.bytes;
    const table = this.flags;
    let at = this.size;
    let found = 0;
    for (let i = 0; i < length; i++) {
      const c = value.charCodeAt(i);
      const flags = c > 0x7f ? ESCAPED : table[c]!;
      if (flags >= ESCAPED) {
        // Not plain ASCII: the escaped text, encoded as UTF-8, from the field's start.
        const escaped = escapeCopyField(value);
        this.room(3 * escaped.length);
        this.size += this.bytes.write(escaped, this.size, 'utf8');
        return -1;
      }
      found |= flags;
      bytes[at++] = c;
    }
    this.size = at;
    return found;
  }

  /** Adds bytes as they are (COPY text already: the caller's word). */
  raw(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    this.size += source.copy(this.bytes, this.size, start, end);
  }

  /** The number of bytes added. */
  get length(): number {
    return this.size;
  }

  /** The buffer the bytes are added to (its first `length` bytes): the same one until it grows. */
  get buffer(): Buffer {
    return this.bytes;
  }

  /** Drops everything added; the buffer is kept for what is added next. */
  clear(): void {
    this.size = 0;
  }

  /** The bytes of everything added. */
  toBuffer(): Buffer {
    return this.bytes.subarray(0, this.size);
  }

  /** Makes room for `count` more bytes (a UTF-16 unit takes at most 3 bytes of UTF-8). */
  private room(count: number): void {
    if (this.size + count <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.size + count, 2 * this.bytes.length));
    this.bytes.copy(grown, 0, 0, this.size);
    this.bytes = grown;
  }
}
