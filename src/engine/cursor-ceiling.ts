import { DEFAULTS } from '../api/defaults-values.js';
import { parseWindow } from '../api/defaults.js';

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DASH = 45;

/** How many rows beyond the ceiling the report names; the rest are counted. */
const NAMED_ROWS = 5;

/**
 * The latest cursor that may move an entity's watermark: now plus the flow's cursor tolerance.
 * One row dated 9999-12-31 would otherwise set the watermark there, and every later Incremental
 * would read nothing. Rows beyond it are still synced; they are remembered for the report.
 */
export class CursorCeiling {
  private readonly limitMs: number;
  private readonly toleranceSeconds: number;
  private beyond = 0;
  private readonly named: string[] = [];

  constructor(
    /** The cursor column, as the report names it. */
    private readonly column: string | undefined,
    toleranceSeconds: number | undefined,
    now = Date.now(),
  ) {
    this.toleranceSeconds = toleranceSeconds ?? parseWindow(DEFAULTS.cursorTolerance)!;
    this.limitMs = now + this.toleranceSeconds * 1000;
  }

  /** Whether a cursor may move the watermark (an unreadable one may). */
  within(cursor: string | null): boolean {
    return cursor === null || !(cursorTime(cursor) > this.limitMs);
  }

  /** `within`, and a row that is not is remembered (plain key parts) for the report. */
  admits(cursor: string | null, keyParts: (string | null)[]): boolean {
    return cursor === null || this.admitsTime(cursorTime(cursor), cursor, keyParts);
  }

  /** `admits` for a cursor whose time (`cursorTime`) the caller has read already. */
  admitsTime(time: number, cursor: string, keyParts: (string | null)[]): boolean {
    if (!(time > this.limitMs)) return true;
    this.beyond++;
    if (this.named.length < NAMED_ROWS) this.named.push(`key ${keyParts.join(', ')} at ${cursor}`);
    return false;
  }

  /** The report's note on the rows beyond the ceiling, if any. */
  note(): string | undefined {
    if (this.beyond === 0) return undefined;
    const more = this.beyond > this.named.length ? ` and ${this.beyond - this.named.length} more` : '';
    return (
      `${this.beyond} row(s) have ${this.column} beyond now + ${spanText(this.toleranceSeconds)} (${this.named.join('; ')}${more}): ` +
      'synced, but the watermark does not move past now + the cursor tolerance, so they are read again by every Incremental until their date is corrected'
    );
  }
}

/** A tolerance as the spec writes it: 24h, 90m, 30s. */
function spanText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/**
 * A cursor as milliseconds since the epoch, as far as the engine can tell from its text (ISO-like
 * `YYYY-MM-DD HH:MM:SS[.ffffff][+zz[:zz]]`, UTC when no zone): Infinity for `infinity`, NaN when
 * unreadable (such a cursor is not held back).
 */
export function cursorTime(cursor: string): number {
  if (cursor === 'infinity') return Infinity;
  // Text that starts with a digit but has no '-' after four characters is no date (a files source's
  // position, `000000000001:000000000042`): told without the pattern, once per row of a large scan.
  const first = cursor.charCodeAt(0);
  if (first >= DIGIT_0 && first <= DIGIT_9 && cursor.charCodeAt(4) !== DASH) return NaN;
  const match = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(cursor.trim());
  if (!match) return NaN;
  const [, date, time = '00:00:00', zone = 'Z'] = match;
  const offset = zone === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(`${date}T${time.replace(/(\.\d{3})\d+$/, '$1')}${offset}`);
}
