const LF = 10;
const CR = 13;

// Where the scan stands: at a field's start, inside an unquoted or a quoted field, or just after a
// quote inside a quoted field (its end, or the first half of a doubled quote).
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const AFTER_QUOTE = 3;

/**
 * A fast look at a CSV file's quoting, byte by byte: 'clean' when every quote opens a field, closes
 * it before a delimiter or line end, or is doubled inside it, every quoted field is closed and all
 * lines end alike (LF or CRLF). csv-parse reads such a file to its end without a syntax error.
 * Anything else is 'unsure' (it may still be valid), and the caller parses the file in full to
 * decide. Delimiter and quote are single ASCII characters, which the file's encodings (UTF-8,
 * Windows-1252, ISO-8859-1) store as the same single byte and never inside another character.
 */
export async function quotingLooksClean(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, delimiter: string, quote: string): Promise<'clean' | 'unsure'> {
  if (delimiter.length !== 1 || quote.length !== 1 || delimiter.charCodeAt(0) > 127 || quote.charCodeAt(0) > 127) return 'unsure';
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  let state = FIELD_START;
  let afterCr = false;
  // 0 until the first line end outside quotes, then LF or CR (for CRLF).
  let lineEnd = 0;
  for await (const chunk of bytes) {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      let byte = chunk[i]!;
      if (afterCr) {
        if (byte !== LF) return 'unsure';
        afterCr = false;
        state = FIELD_START;
        continue;
      }
      if (state === QUOTED) {
        // Only a quote matters inside quotes.
        const close = chunk.indexOf(q, i);
        if (close < 0) break;
        i = close;
        state = AFTER_QUOTE;
        continue;
      }
      // Inside an unquoted field, skip to the next byte that matters.
      if (state === UNQUOTED) {
        while (byte !== q && byte !== d && byte !== LF && byte !== CR && ++i < n) byte = chunk[i]!;
        if (i >= n) break;
      }
      if (byte === q) {
        if (state === UNQUOTED) return 'unsure';
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
        else if (lineEnd !== kind) return 'unsure';
        if (kind === CR) afterCr = true;
        else state = FIELD_START;
        continue;
      }
      if (state === AFTER_QUOTE) return 'unsure';
      state = UNQUOTED;
    }
  }
  return state === QUOTED || afterCr ? 'unsure' : 'clean';
}
