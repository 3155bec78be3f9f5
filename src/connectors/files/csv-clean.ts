const LF = 10;
const CR = 13;
/** A record cut by a piece's end is completed a line at a time while its text stays below this; past it, with the piece's whole rest. */
const CUT_RECORD = 1 << 12;

/**
 * Takes the records a reader finds: `fields` holds the record's `count` values (null for an unquoted
 * empty field when empty is null, and for a field `wanted` says nobody reads). The array is the
 * reader's own and is overwritten by the next record, so a handler copies what it keeps.
 */
export type CsvRecordHandler = (fields: readonly (string | null)[], count: number, line: number) => void;

/** Text after a closing quote, or a lone CR: the text was not clean after all. */
export class NotCleanCsvError extends Error {}

/**
 * Reads CSV text that `quotingLooksClean` called clean, giving the records csv-parse gives with
 * `csvOptions` (the same values, nulls for unquoted empty fields, skipped empty lines, the same line
 * numbers) at a fraction of its cost: fields are slices of the text, found with a plain scan, put in
 * one array reused for every record. It relies on the text being clean and throws
 * `NotCleanCsvError` where it finds it is not.
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
  /** The parity of the quotes in a long `rest` (1: it ends inside a quoted field); undefined: not counted yet. */
  private restParity: number | undefined;
  private lines = 1;
  /** The fields of the record being read (reused: no array per record). */
  private readonly fields: (string | null)[] = [];
  /** The fields by position that someone reads (false: not sliced out of the text); undefined: all. */
  private wanted: readonly boolean[] | undefined;

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

  /** From the next record on, only the fields at positions `wanted` marks true get their text (the others are null). */
  want(wanted: readonly boolean[] | undefined): void {
    this.wanted = wanted;
  }

  /**
   * The record in `rest` is long (past CUT_RECORD): where its line end falls in `text`, counting
   * quotes from `parity` (the quotes in `rest`, odd: inside a quoted field); -1 when `text` does
   * not end it, then `parity` is that of `rest` and `text` together. Clean text has a quote only at
   * a field's ends or doubled inside it, so the record ends at the first LF after an even count.
   */
  private endOfLongRecord(text: string, parity: number): { end: number; parity: number } {
    let at = 0;
    for (;;) {
      const lf = text.indexOf('\n', at);
      const quote = text.indexOf(this.quote, at);
      if (quote >= 0 && (lf < 0 || quote < lf)) {
        parity ^= 1;
        at = quote + 1;
        continue;
      }
      if (lf < 0) return { end: -1, parity };
      if (parity === 0) return { end: lf, parity };
      at = lf + 1;
    }
  }

  /** Hands `on` the records that `text` completes. */
  push(text: string, on: CsvRecordHandler): void {
    if (this.rest.length > CUT_RECORD) {
      // A long record is only added to until a piece holds its end: read again from its start with
      // every piece, it would cost the square of its length.
      this.restParity ??= this.endOfLongRecord(this.rest, 0).parity;
      const { end, parity } = this.endOfLongRecord(text, this.restParity);
      if (end < 0) {
        this.rest += text;
        this.restParity = parity;
        return;
      }
      this.restParity = undefined;
      const rest = this.rest;
      this.rest = '';
      this.read(rest + text, false, on);
      return;
    }
    this.restParity = undefined;
    let from = 0;
    // A record cut by the last piece's end: completed with this piece's text up to a line end, so
    // the piece itself is read where it lies (joining the two would copy the whole piece).
    while (this.rest !== '' && from < text.length) {
      const lf = text.indexOf('\n', from);
      if (lf < 0 || this.rest.length > CUT_RECORD) {
        this.read(this.rest + (from === 0 ? text : text.slice(from)), false, on);
        return;
      }
      const head = this.rest + text.slice(from, lf + 1);
      this.rest = '';
      this.read(head, false, on);
      from = lf + 1;
    }
    if (from < text.length) this.read(from === 0 ? text : text.slice(from), false, on);
  }

  /** Hands `on` the last record, when the text did not end with a line end. */
  end(on: CsvRecordHandler): void {
    if (this.rest !== '') this.read(this.rest, true, on);
    this.rest = '';
  }

  private read(s: string, final: boolean, on: CsvRecordHandler): void {
    const n = s.length;
    const { d, q, fields, wanted } = this;
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
      let count = 0;
      for (;;) {
        const skip = wanted !== undefined && wanted[count] !== true;
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
          if (skip) fields[count++] = null;
          else {
            const value = s.slice(pos + 1, close);
            fields[count++] = doubled ? value.replaceAll(this.doubled, this.quote) : value;
          }
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
          fields[count++] = skip || (j === pos && this.emptyIsNull) ? null : s.slice(pos, j);
          pos = j;
        }
        if (pos >= n) {
          if (!final) {
            pos = start;
            break records;
          }
          this.lines = lines;
          on(fields, count, lines);
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
        this.lines = lines + 1;
        on(fields, count, lines);
        break;
      }
    }
    this.rest = pos < n ? s.slice(pos) : '';
  }
}
