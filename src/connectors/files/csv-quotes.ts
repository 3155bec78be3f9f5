const LF = 10;
const CR = 13;

// Where the scan stands: at a field's start, inside an unquoted or a quoted field, or just after a
// quote inside a quoted field (its end, or the first half of a doubled quote).
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const AFTER_QUOTE = 3;

const indexOf = (chunk: Uint8Array, byte: number, from: number): number => chunk.indexOf(byte, from);

/**
 * The longest record a CSV file may hold, in bytes (line ends inside its quotes included): a longer
 * one, such as a quote that never closes in a file of gigabytes, would be held whole in memory by
 * either reader. The scan is unsure of such a file, and the full parse refuses it.
 */
export const MAX_RECORD_BYTES = 16 << 20;
/** How far the start of the record being scanned may lag behind its true place when skipped text is not searched for line ends. */
const RECORD_START_SLACK = 1 << 16;

/**
 * A fast look at a CSV file's quoting, byte by byte, fed the file's bytes in pieces as they come
 * (also while the file is being written): 'clean' when every quote opens a field, closes it before
 * a delimiter or line end, or is doubled inside it, every quoted field is closed and all lines end
 * alike (LF or CRLF). csv-parse reads such a file to its end without a syntax error. Anything else
 * is 'unsure' (it may still be valid), and the caller parses the file in full to decide. Delimiter
 * and quote are single ASCII characters, which the file's encodings (UTF-8, Windows-1252,
 * ISO-8859-1) store as the same single byte and never inside another character.
 */
export class QuotingScan {
  private readonly d: number;
  private readonly q: number;
  private state = FIELD_START;
  private afterCr = false;
  /** 0 until the first line end outside quotes, then LF or CR (for CRLF). */
  private lineEnd = 0;
  /** Set once the scan found something it cannot vouch for: the rest is not looked at. */
  private unsure: boolean;
  /** The file offset of the piece being scanned, and where the record being scanned began (at most RECORD_START_SLACK earlier). */
  private at = 0;
  private recordFrom = 0;

  constructor(delimiter: string, quote: string) {
    this.unsure = delimiter.length !== 1 || quote.length !== 1 || delimiter.charCodeAt(0) > 127 || quote.charCodeAt(0) > 127;
    this.d = delimiter.charCodeAt(0);
    this.q = quote.charCodeAt(0);
  }

  /** True once the verdict is 'unsure' whatever follows. */
  get gaveUp(): boolean {
    return this.unsure;
  }

  /** The verdict on the bytes pushed so far, taken as the whole file. */
  verdict(): 'clean' | 'unsure' {
    return this.unsure || this.state === QUOTED || this.afterCr ? 'unsure' : 'clean';
  }

  push(chunk: Uint8Array): void {
    if (!this.unsure && !this.scan(chunk)) this.unsure = true;
  }

  /** Scans a piece; false as soon as it is not clean. */
  private scan(chunk: Uint8Array): boolean {
    const { d, q } = this;
    let { state, afterCr, lineEnd, recordFrom } = this;
    const { at } = this;
    const n = chunk.length;
    // The next CR and the next quote at or after the scan's place (2^32 - 1: none in this piece).
    let nextCr = -1;
    let nextQuote = -1;
    for (let i = 0; i < n; i++) {
      let byte = chunk[i]!;
      if (afterCr) {
        if (byte !== LF) return false;
        afterCr = false;
        state = FIELD_START;
        if (at + i - recordFrom > MAX_RECORD_BYTES) return false;
        recordFrom = at + i + 1;
        continue;
      }
      if (state === QUOTED) {
        // Only a quote matters inside quotes.
        const close = indexOf(chunk, q, i);
        if (close < 0) {
          if (at + n - recordFrom > MAX_RECORD_BYTES) return false;
          break;
        }
        i = close;
        state = AFTER_QUOTE;
        continue;
      }
      if (lineEnd === LF && state !== AFTER_QUOTE) {
        // Lines end with LF: outside quotes only a quote and a CR matter (a CR makes the file
        // unclean), so jump to the next quote: most of a file's bytes are never looked at one by one.
        if (nextCr < i) nextCr = indexOf(chunk, CR, i) >>> 0;
        if (nextQuote < i) nextQuote = indexOf(chunk, q, i) >>> 0;
        const end = Math.min(nextQuote, n);
        if (nextCr < end) return false;
        if (at + end - recordFrom > RECORD_START_SLACK) {
          // The line ends skipped over were not looked at: the first ends the record (that began before
          // them), the record read on began after the last.
          const first = indexOf(chunk, LF, i);
          if (first >= 0 && first < end) {
            if (at + first - recordFrom > MAX_RECORD_BYTES) return false;
            recordFrom = at + i + chunk.subarray(i, end).lastIndexOf(LF) + 1;
          }
          if (at + end - recordFrom > MAX_RECORD_BYTES) return false;
        }
        if (end > i) {
          const before = chunk[end - 1]!;
          state = before === d || before === LF ? FIELD_START : UNQUOTED;
        }
        if (end === n) break;
        // A quote at a field's start opens it; after other text, it is a stray quote.
        if (state !== FIELD_START) return false;
        i = end;
        state = QUOTED;
        continue;
      }
      // Inside an unquoted field, skip to the next byte that matters.
      if (state === UNQUOTED) {
        while (byte !== q && byte !== d && byte !== LF && byte !== CR && ++i < n) byte = chunk[i]!;
        if (i >= n) break;
      }
      if (byte === q) {
        if (state === UNQUOTED) return false;
        // At a field's start it opens the field; just after a quote, the two are one quote inside it.
        state = QUOTED;
        continue;
      }
      if (byte === d) {
        state = FIELD_START;
        continue;
      }
      if (byte === LF || byte === CR) {
        const kind = byte === CR ? CR : LF;
        if (lineEnd === 0) lineEnd = kind;
        else if (lineEnd !== kind) return false;
        if (kind === CR) afterCr = true;
        else {
          state = FIELD_START;
          if (at + i - recordFrom > MAX_RECORD_BYTES) return false;
          recordFrom = at + i + 1;
        }
        continue;
      }
      if (state === AFTER_QUOTE) return false;
      state = UNQUOTED;
    }
    // A record that runs on past the piece (any state but just after its line end).
    if (at + n - recordFrom > MAX_RECORD_BYTES) return false;
    this.state = state;
    this.afterCr = afterCr;
    this.lineEnd = lineEnd;
    this.recordFrom = recordFrom;
    this.at = at + n;
    return true;
  }
}

/** `QuotingScan`'s verdict on a whole file's bytes. */
export async function quotingLooksClean(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, delimiter: string, quote: string): Promise<'clean' | 'unsure'> {
  const scan = new QuotingScan(delimiter, quote);
  for await (const chunk of bytes) {
    scan.push(chunk);
    if (scan.gaveUp) break;
  }
  return scan.verdict();
}
