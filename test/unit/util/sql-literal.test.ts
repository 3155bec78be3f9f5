import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { literal } from '../../../src/util/sql.js';

// pg.escapeLiteral puts a space before E'...'; the literal's text is otherwise the same.
const escapeLiteral = (text: string) => pg.escapeLiteral(text).trimStart();

describe('literal (SQL text values, e.g. an inflight marker)', () => {
  it('writes what pg.escapeLiteral writes', () => {
    const fixed = ['', "'", '\\', "o'neil", 'back\\slash', "\\'both'\\", 'line\nbreak', 'Ελληνικά', '"quoted"', '["a\\"b","c\\\\d"]', '\ud800 lone', "''\\\\"];
    for (const text of fixed) expect(literal(text)).toBe(escapeLiteral(text));
    // Random texts over an alphabet rich in what gets escaped.
    const alphabet = ["'", '\\', '"', 'a', 'Z', '0', ' ', '\n', 'é', 'λ', '\ud83d\ude00', ',', '[', ']'];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 20_000; i++) {
      const length = next() % 40;
      let text = '';
      for (let j = 0; j < length; j++) text += alphabet[next() % alphabet.length];
      expect(literal(text)).toBe(escapeLiteral(text));
    }
  });
});
