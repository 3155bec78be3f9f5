/**
 * JSON text in the one canonical form the export files use for JSON values, which is how
 * PostgreSQL prints `jsonb` (and close to how MySQL stores JSON): object keys sorted by byte length,
 * then bytes, the last of duplicate keys kept, `", "` and `": "` separators, numbers with the scale
 * they were written with (`1.50` stays, `1e2` is `100`). Sources that keep JSON as text (MariaDB)
 * export the same bytes as PostgreSQL for the same document.
 */
type JsonValue = { number: string } | string | boolean | null | JsonValue[] | Map<string, JsonValue>;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): JsonValue {
    const value = this.value();
    this.space();
    if (this.pos !== this.text.length) this.fail();
    return value;
  }

  private fail(): never {
    throw new SyntaxError(`invalid JSON at offset ${this.pos}`);
  }

  private space(): void {
    while (/[ \t\r\n]/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private value(): JsonValue {
    this.space();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!number) this.fail();
    this.pos += number[0].length;
    return { number: number[0] };
  }

  private string(): string {
    const end = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.pos));
    if (!end) this.fail();
    this.pos += end[0].length;
    return JSON.parse(end[0]) as string;
  }

  private array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail();
    }
  }

  private object(): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail();
      const key = this.string();
      this.space();
      if (this.text[this.pos++] !== ':') this.fail();
      out.delete(key);
      out.set(key, this.value());
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail();
    }
  }
}

/** jsonb's key order: shorter keys first, then by UTF-8 bytes. */
export function compareJsonbKeys(a: string, b: string): number {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length - bb.length || Buffer.compare(ab, bb);
}

/** A JSON number as PostgreSQL's numeric prints it: plain digits, the scale it was written with. */
export function numericText(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  const exponent = Number(match?.[4] ?? '0');
  if (!match || Math.abs(exponent) > 1000) return text;
  const [, sign, whole, fraction = ''] = match;
  const digits = whole + fraction;
  const point = whole.length + exponent;
  const scale = Math.max(0, fraction.length - exponent);
  let intPart: string;
  let fracPart: string;
  if (point <= 0) [intPart, fracPart] = ['0', '0'.repeat(-point) + digits];
  else if (point >= digits.length) [intPart, fracPart] = [digits + '0'.repeat(point - digits.length), ''];
  else [intPart, fracPart] = [digits.slice(0, point), digits.slice(point)];
  intPart = intPart.replace(/^0+(?=\d)/, '');
  const zero = /^0*$/.test(intPart + fracPart);
  return (sign && !zero ? '-' : '') + intPart + (scale > 0 ? '.' + fracPart : '');
}

function print(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(print).join(', ')}]`;
  if (value instanceof Map) {
    const keys = [...value.keys()].sort(compareJsonbKeys);
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${print(value.get(k)!)}`).join(', ')}}`;
  }
  return numericText(value.number);
}

/** The canonical text of a JSON document; text that is not JSON is returned as it is. */
export function jsonbText(text: string): string {
  try {
    return print(new Parser(text).parse());
  } catch (error) {
    if (error instanceof SyntaxError) return text;
    throw error;
  }
}
