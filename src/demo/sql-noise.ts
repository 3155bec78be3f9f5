import { literal } from '../util/sql.js';

/**
 * Builders of SQL expressions that turn a row number into pseudo-random but reproducible
 * values. They use hashint8extended(), PostgreSQL's seeded 64-bit hash (the one behind hash
 * partitioning, so it is stable across platforms and versions); the same seed, tag and row
 * number always give the same value, and different tags give independent streams.
 */
export class SqlNoise {
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0x7fffffff) {
      throw new RangeError(`seed must be an integer between 0 and ${0x7fffffff}, got ${seed}`);
    }
  }

  /** A non-negative bigint below 2^31. */
  int(row: string, tag: string): string {
    return `(hashint8extended(${row}, ${this.salt(tag)}) & 2147483647)`;
  }

  /** 0 .. n-1 */
  below(n: number, row: string, tag: string): string {
    return `(${this.int(row, tag)} % ${Math.max(1, n)})`;
  }

  /** 1 .. n: an id in a table whose ids are 1..n. */
  id(n: number, row: string, tag: string): string {
    return `(1 + ${this.below(n, row, tag)})`;
  }

  /** True for about `percent` percent of rows. */
  chance(percent: number, row: string, tag: string): string {
    return `(${this.below(100, row, tag)} < ${percent})`;
  }

  /** One of the values (NULL entries allowed); repeat a value to weight it. */
  pick(values: readonly (string | null)[], row: string, tag: string): string {
    const items = values.map((v) => (v === null ? 'NULL' : literal(v))).join(',');
    return `(ARRAY[${items}]::text[])[1 + ${this.below(values.length, row, tag)}]`;
  }

  /** `expr`, or NULL for about `percent` percent of rows. */
  sometimesNull(percent: number, expr: string, row: string, tag: string): string {
    return `CASE WHEN ${this.chance(percent, row, `${tag}.null`)} THEN NULL ELSE ${expr} END`;
  }

  /** An amount with cents, 0 .. max. */
  money(max: number, row: string, tag: string): string {
    return `(${this.below(max * 100 + 1, row, tag)} * 0.01)`;
  }

  private salt(tag: string): string {
    return (BigInt(this.seed) * 4294967296n + BigInt(fnv1a32(tag))).toString();
  }
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
