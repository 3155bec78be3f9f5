const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * Finds the record ends in PostgreSQL's CSV output (a line feed outside quotes) and, for RFC 4180,
 * rewrites them as CRLF; line breaks inside quoted fields stay as they are. Works chunk by chunk,
 * carrying the "inside quotes" state across chunk boundaries.
 */
export class CsvRecordScanner {
  private inQuotes = false;

  constructor(
    private readonly quote: number,
    private readonly crlf: boolean,
  ) {}

  /** The converted chunk, and the offset just past each record end in it. */
  scan(chunk: Buffer): { data: Buffer; ends: number[] } {
    const ends: number[] = [];
    const parts: Buffer[] = [];
    let outLength = 0;
    let start = 0;
    let pos = 0;
    let nextQuote = chunk.indexOf(this.quote, 0);
    let nextLf = chunk.indexOf(LF, 0);
    while (pos < chunk.length) {
      if (this.inQuotes) {
        if (nextQuote < 0) break;
        pos = nextQuote + 1;
        this.inQuotes = false;
        nextQuote = chunk.indexOf(this.quote, pos);
        continue;
      }
      if (nextLf >= 0 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextQuote >= 0 && (nextLf < 0 || nextQuote < nextLf)) {
        pos = nextQuote + 1;
        this.inQuotes = true;
        nextQuote = chunk.indexOf(this.quote, pos);
        continue;
      }
      if (nextLf < 0) break;
      if (this.crlf) {
        parts.push(chunk.subarray(start, nextLf), CRLF);
        outLength += nextLf - start + 2;
        ends.push(outLength);
      } else {
        ends.push(nextLf + 1);
      }
      start = pos = nextLf + 1;
      nextLf = chunk.indexOf(LF, pos);
    }
    if (!this.crlf) return { data: chunk, ends };
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      outLength += chunk.length - start;
    }
    return { data: Buffer.concat(parts, outLength), ends };
  }
}
