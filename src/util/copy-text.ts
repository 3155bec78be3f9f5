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
