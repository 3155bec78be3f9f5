import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { QuotingScan, quotingLooksClean } from '../../../src/connectors/files/csv-quotes.js';
import { csvOptions, dialectOf } from '../../../src/connectors/files/parse.js';

/** Scans the text in pieces of `piece` bytes (a line end or a quote may fall on a piece's edge). */
function scan(text: string, delimiter = ',', quote = '"', piece = 3): Promise<'clean' | 'unsure'> {
  const bytes = Buffer.from(text, 'latin1');
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
  return quotingLooksClean(pieces, delimiter, quote);
}

/** What the import's own parser says: true when it reads the text to its end. */
function parses(text: string, delimiter = ','): boolean {
  try {
    parse(text, csvOptions({ ...dialectOf({ pattern: '*', contents: 'Snapshot' }), delimiter }));
    return true;
  } catch {
    return false;
  }
}

describe('quotingLooksClean: a byte scan that lets a plainly quoted CSV file skip the full syntax parse', () => {
  it('is clean for plain, quoted, doubled-quote, multi-line and CRLF files', async () => {
    for (const text of ['a,b\n1,2\n', 'a,b\n"1, one","two ""2"""\n', 'a,b\r\n"x\r\ny",""\r\n', 'a;b\n1;"2"', '', 'a,b\n\n1,\n']) {
      expect([text, await scan(text, text.includes(';') ? ';' : ',')]).toEqual([text, 'clean']);
      expect(parses(text, text.includes(';') ? ';' : ',')).toBe(true);
    }
  });

  it('is unsure for an unclosed quote, a quote inside an unquoted field, text after a closing quote, mixed line ends, a lone CR', async () => {
    for (const text of ['a\n"open,1\n', 'a\nab"c\n', 'a\n"ab"c\n', 'a\n1\r\n2\n', 'a\r1\r', 'a\n "x"\n', 'a\n"x"\r']) {
      expect([text, await scan(text)]).toEqual([text, 'unsure']);
    }
  });

  it('never calls a file clean that csv-parse refuses (random texts over the characters that matter)', async () => {
    const alphabet = ['a', 'b', ',', '"', '"', '\n', '\r\n', '\r', ' ', '\u00e9'];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let clean = 0;
    for (let n = 0; n < 5000; n++) {
      let text = '';
      const length = Math.floor(random() * 24);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      if ((await scan(text, ',', '"', 1 + (n % 5))) === 'clean') {
        clean++;
        expect([text, parses(text)]).toEqual([text, true]);
      }
    }
    expect(clean).toBeGreaterThan(500);
  });

  it('leaves a delimiter or quote beyond ASCII to the full parse', async () => {
    expect(await scan('a\u00a7b\n', '\u00a7')).toBe('unsure');
  });

  it('gives the verdict of a byte-by-byte reference scan on random multi-line texts fed in random pieces (its jumps over unquoted text)', () => {
    const alphabet = ['ab', 'c', ',', ',', '"', '"', '""', '\n', '\n', '\r\n', '\r', ' '];
    let seed = 777;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const verdicts = { clean: 0, unsure: 0 };
    for (let n = 0; n < 20000; n++) {
      // Mostly LF files with quoted fields, where the scan jumps; now and then a CR.
      let text = 'h,i\n';
      const length = Math.floor(random() * 60);
      for (let i = 0; i < length; i++) {
        const pick = alphabet[Math.floor(random() * alphabet.length)]!;
        text += n % 4 === 0 || !pick.includes('\r') ? pick : '\n';
      }
      const bytes = Buffer.from(text, 'latin1');
      const scan = new QuotingScan(',', '"');
      for (let i = 0; i < bytes.length; ) {
        const size = 1 + Math.floor(random() * 12);
        scan.push(bytes.subarray(i, i + size));
        i += size;
      }
      const expected = referenceScan(bytes, ',', '"');
      expect([text, scan.verdict()]).toEqual([text, expected]);
      verdicts[expected]++;
    }
    expect(verdicts.clean).toBeGreaterThan(2000);
    expect(verdicts.unsure).toBeGreaterThan(2000);
  });
});

/** The scan's rules applied one byte at a time, with no jumps (what QuotingScan must agree with). */
function referenceScan(bytes: Uint8Array, delimiter: string, quote: string): 'clean' | 'unsure' {
  const [d, q, LF, CR] = [delimiter.charCodeAt(0), quote.charCodeAt(0), 10, 13];
  let state: 'start' | 'unquoted' | 'quoted' | 'afterQuote' = 'start';
  let lineEnd = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (state === 'quoted') {
      if (byte === q) state = 'afterQuote';
    } else if (byte === q) {
      if (state === 'unquoted') return 'unsure';
      state = 'quoted';
    } else if (byte === d) {
      state = 'start';
    } else if (byte === LF || byte === CR) {
      const kind = byte === CR && bytes[i + 1] === LF ? CR : byte;
      if (byte === CR && kind !== CR) return 'unsure';
      if (lineEnd === 0) lineEnd = kind;
      else if (lineEnd !== kind) return 'unsure';
      if (kind === CR) i++;
      state = 'start';
    } else if (state === 'afterQuote') {
      return 'unsure';
    } else {
      state = 'unquoted';
    }
  }
  return state === 'quoted' ? 'unsure' : 'clean';
}
