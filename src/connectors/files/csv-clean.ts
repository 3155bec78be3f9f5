const LF = 10;
const CR = 13;

/** One CSV record and the line it ends on (as csv-parse's `info.lines` counts). */
export interface CsvRow {
  line: number;
  values: (string | null)[];
}

/** Text after a closing quote, or a lone CR: the text was not clean after all. */
export class NotCleanCsvError extends Error {}

/**
 * Reads CSV text that `quotingLooksClean` called clean, giving the records csv-parse gives with
 * `csvOptions` (the same values, nulls for unquoted empty fields, skipped empty lines, the same line
 * numbers) at a fraction of its cost: fields are slices of the text, found with a plain scan. It
 * relies on the text being clean and throws `NotCleanCsvError` where it finds it is not.
 *
 * Lines count as csv-parse counts them: one per line end outside quotes (LF or CRLF), and one per
 * CR and per LF inside a quoted field; a record's line is the line its last field ends on.
 */
export class CleanCsvReader {
  private readonly d: number;
  private readonly q: number;
  private readonly quote: string;
  private readonly doubled: string;
  /** Text of a record not complete yet (it continues in the next piece). */
  private rest = '';
  private lines = 1;
  /** Fields of the last record. */
  private width = 0;

  constructor(
    delimiter: string,
    quote: string,
    private readonly emptyIsNull: boolean,
  ) {
    this.d = delimiter.charCodeAt(0);
    this.q = quote.charCodeAt(0);
    this.quote = quote;
    this.doubled = quote + quote;
  }

  /** Appends to `out` the records that `text` completes. */
  push(text: string, out: CsvRow[]): void {
    this.read(this.rest === '' ? text : this.rest + text, false, out);
  }

  /** Appends the last record, when the text did not end with a line end. */
  end(out: CsvRow[]): void {
    if (this.rest !== '') this.read(this.rest, true, out);
    this.rest = '';
  }

  /** A record's values, `count` of them: the next record's array is sized so. */
  private complete(values: (string | null)[], count: number): (string | null)[] {
    if (values.length !== count) values.length = count;
    this.width = count;
    return values;
  }

  private read(s: string, final: boolean, out: CsvRow[]): void {
    const n = s.length;
    const { d, q } = this;
    let pos = 0;
    records: while (pos < n) {
      const start = pos;
      let lines = this.lines;
      let c = s.charCodeAt(pos);
      if (c === LF || c === CR) {
        // An empty line.
        if (c === CR && s.charCodeAt(pos + 1) !== LF) {
          if (pos + 1 >= n && !final) break;
          throw new NotCleanCsvError('a lone CR');
        }
        pos += c === CR ? 2 : 1;
        this.lines++;
        continue;
      }
      // Sized as the record before (most records have as many fields): no growing per field.
      const values: (string | null)[] = new Array<string | null>(this.width);
      let count = 0;
      for (;;) {
        if (pos < n && s.charCodeAt(pos) === q) {
          let from = pos + 1;
          let close: number;
          let doubled = false;
          for (;;) {
            close = s.indexOf(this.quote, from);
            if (close < 0 || (close + 1 >= n && !final)) {
              // The field goes on in the next piece (or a doubled quote is cut in two).
              pos = start;
              break records;
            }
            if (s.charCodeAt(close + 1) !== q) break;
            doubled = true;
            from = close + 2;
          }
          for (let i = pos + 1; i < close; i++) {
            const b = s.charCodeAt(i);
            if (b === LF || b === CR) lines++;
          }
          const value = s.slice(pos + 1, close);
          values[count++] = doubled ? value.replaceAll(this.doubled, this.quote) : value;
          pos = close + 1;
        } else {
          let j = pos;
          while (j < n) {
            c = s.charCodeAt(j);
            if (c === d || c === LF || c === CR) break;
            j++;
          }
          if (j >= n && !final) {
            pos = start;
            break records;
          }
          values[count++] = j === pos && this.emptyIsNull ? null : s.slice(pos, j);
          pos = j;
        }
        if (pos >= n) {
          if (!final) {
            pos = start;
            break records;
          }
          out.push({ line: lines, values: this.complete(values, count) });
          this.lines = lines;
          break;
        }
        c = s.charCodeAt(pos);
        if (c === d) {
          pos++;
          continue;
        }
        if (c === CR) {
          if (pos + 1 >= n && !final) {
            pos = start;
            break records;
          }
          if (s.charCodeAt(pos + 1) !== LF) throw new NotCleanCsvError('a lone CR');
          pos += 2;
        } else if (c === LF) {
          pos++;
        } else {
          throw new NotCleanCsvError(`text after a closing quote at line ${lines}`);
        }
        out.push({ line: lines, values: this.complete(values, count) });
        this.lines = lines + 1;
        break;
      }
    }
    this.rest = pos < n ? s.slice(pos) : '';
  }
}
