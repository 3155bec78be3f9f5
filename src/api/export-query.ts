/**
 * The static check of an export's free `query`: it must be one SELECT (or WITH ... SELECT) that
 * can stand inside a derived table, so the text can never close it and run a second statement.
 * The connectors still run it read-only and through the extended protocol / single-statement
 * connections; this check gives the early, field-named answer in `ferry validate`.
 */
export type QueryDialect = 'postgres' | 'mysql';

interface Token {
  kind: 'word' | 'punct';
  text: string;
}

const WRITING_WORDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE', 'CALL', 'COPY']);
const FIRST_WORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/** Finds where a quoted section that starts at `start` ends (the index after its closing quote), or -1. */
function quotedEnd(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (backslashEscapes && c === '\\') {
      i++;
    } else if (c === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}

function blockCommentEnd(text: string, start: number, nested: boolean): number {
  let depth = 0;
  let i = start;
  while (i < text.length - 1) {
    const pair = text.slice(i, i + 2);
    if (pair === '/*' && (nested || depth === 0)) {
      depth++;
      i += 2;
    } else if (pair === '*/') {
      i += 2;
      if (--depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

/** The query's words and punctuation outside strings, quoted names and comments; a string when the text cannot be lexed. */
function tokens(text: string, dialect: QueryDialect): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if ((c === '-' && next === '-') || (dialect === 'mysql' && c === '#')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = blockCommentEnd(text, i, dialect === 'postgres');
      if (end === -1) return 'has an unterminated /* comment';
      i = end;
    } else if (c === "'" || c === '"' || c === '`') {
      const escapedString = dialect === 'mysql' ? c !== '`' : c === "'" && /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '');
      const end = quotedEnd(text, i, c, escapedString);
      if (end === -1) return `has an unterminated ${c === "'" ? 'string' : 'quoted name'}`;
      if (c !== "'") out.push({ kind: 'word', text: '"name"' });
      i = end;
    } else if (dialect === 'postgres' && c === '$' && !/[\w$]/.test(text[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_][\w]*)?\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const end = text.indexOf(tag, i + tag.length);
        if (end === -1) return 'has an unterminated $-quoted string';
        i = end + tag.length;
      } else {
        i++;
      }
    } else if (/[\w$]/.test(c)) {
      const word = /^[\w$]+/.exec(text.slice(i))![0];
      out.push({ kind: 'word', text: word.toUpperCase() });
      i += word.length;
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

/** Why `query` is not a single read-only SELECT, or undefined when it is. */
export function exportQueryProblem(query: string, dialect: QueryDialect): string | undefined {
  if (query.includes('\0')) return 'must not contain a NUL character';
  const lexed = tokens(query, dialect);
  if (typeof lexed === 'string') return lexed;
  const first = lexed.find((t) => t.text !== '(');
  if (!first || !FIRST_WORDS.has(first.text)) return `must be a single SELECT query, not ${first ? `"${first.text}"` : 'empty'}`;
  let depth = 0;
  for (const [index, token] of lexed.entries()) {
    if (token.text === ';') return 'must be a single SELECT statement (no ";")';
    if (token.text === '(') depth++;
    if (token.text === ')' && --depth < 0) return 'has a ")" without its "("';
    const previous = lexed[index - 1]?.text;
    if (token.kind === 'word' && WRITING_WORDS.has(token.text) && (previous === '(' || index === 0)) {
      return `must only read: a ${token.text} inside the query is not allowed`;
    }
  }
  if (depth > 0) return 'has a "(" without its ")"';
  return undefined;
}
