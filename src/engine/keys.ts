/**
 * Order-preserving key encoding.
 *
 * Pairs are merge-joined with source and target streams, so the text stored in the state DB must
 * sort (byte-wise, collation "C") exactly like the key columns sort in their own database.
 * Integers are sign-prefixed and zero-padded; every other type keeps its text form and is read
 * with `COLLATE "C"` on its side. Composite keys join their parts with U+0001, which sorts below
 * every printable character, so tuple order equals string order.
 */
export type KeyKind = 'integer' | 'text';

// PostgreSQL's and MySQL's names for whole-number column types (catalogs give base names in lower case).
const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint', 'int2', 'int4', 'int8', 'tinyint', 'mediumint', 'int']);
const PART_SEPARATOR = '\u0001';
const DIGITS = 19;
const NEGATIVE_OFFSET = 9223372036854775808n;
// BIGINT UNSIGNED reaches 20 digits; a prefix above 'p' keeps them after every 19-digit key
// without changing the encoding of keys already stored.
const WIDE_DIGITS = 20;

export function keyKindOf(dataType: string): KeyKind {
  return INTEGER_TYPES.has(dataType) ? 'integer' : 'text';
}

/** Character codes of the last non-negative key encoded: 'p', then 19 digits (see encodeInteger). */
const keyCodes: number[] = Array.from({ length: DIGITS + 1 }, (_, i) => (i === 0 ? 112 : 48)); // p, 0...

/**
 * The character codes of `encodeInteger(value)` for a non-negative value of at most 19 digits (the
 * usual key), in an array shared by every call (valid until the next one); undefined for any other
 * value. A writer of bytes (the new pairs' COPY data) takes them without a string per key.
 */
export function encodedIntegerCodes(value: string): readonly number[] | undefined {
  if (value[0] === '-' || value.length > DIGITS) return undefined;
  const pad = DIGITS - value.length;
  for (let i = 1; i <= pad; i++) keyCodes[i] = 48;
  for (let i = 0; i < value.length; i++) keyCodes[1 + pad + i] = value.charCodeAt(i);
  return keyCodes;
}

export function encodeInteger(value: string): string {
  // Once per pair written: one flat string from character codes ('p' + padStart made two
  // concatenations, flattened again when the key is written).
  const codes = encodedIntegerCodes(value);
  if (codes) return String.fromCharCode.apply(null, codes as number[]);
  if (value[0] !== '-') return value.length > DIGITS ? 'q' + value.padStart(WIDE_DIGITS, '0') : 'p' + value.padStart(DIGITS, '0');
  return 'n' + (BigInt(value) + NEGATIVE_OFFSET).toString().padStart(DIGITS, '0');
}

function decodeInteger(encoded: string): string {
  const digits = encoded.slice(1);
  if (encoded[0] !== 'n') return digits.replace(/^0+(?=\d)/, '');
  return (BigInt(digits) - NEGATIVE_OFFSET).toString();
}

const ENCODED_INTEGER = /^(?:[pn]\d{19}|q\d{20})$/;

/** Whether a stored key part has the integer encoding (a text key may look the same; the kind is not stored). */
export function isEncodedInteger(part: string): boolean {
  return ENCODED_INTEGER.test(part);
}

/** A stored key part as a person reads it: integers decoded, text as it is. */
export function readablePart(part: string): string {
  return isEncodedInteger(part) ? decodeInteger(part) : part;
}

export class KeyCodec {
  constructor(readonly kinds: KeyKind[]) {}

  /** Encodes plain (unescaped) key part values; returns undefined when any part is null. */
  encode(parts: (string | null)[]): string | undefined {
    let out = '';
    for (let i = 0; i < this.kinds.length; i++) {
      const part = parts[i];
      if (part === null || part === undefined) return undefined;
      if (i > 0) out += PART_SEPARATOR;
      out += this.kinds[i] === 'integer' ? encodeInteger(part) : part;
    }
    return out;
  }

  decode(encoded: string): string[] {
    const parts = this.kinds.length === 1 ? [encoded] : encoded.split(PART_SEPARATOR);
    return parts.map((part, i) => (this.kinds[i] === 'integer' ? decodeInteger(part) : part));
  }
}

/** Compares encoded keys the way PostgreSQL's "C" collation does (UTF-8 byte order). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order except around surrogates; fall back to bytes only then.
  if (/[\uD800-\uDFFF]/.test(a) || /[\uD800-\uDFFF]/.test(b)) {
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a < b ? -1 : 1;
}
