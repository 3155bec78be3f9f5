import type { Watermark } from '../../store/run-state.js';
import type { Row } from '../connector.js';
import { cursorTime } from '../cursor-ceiling.js';
import type { EntityParts } from './parts.js';
import { parseSourceRow, type KeyedRecord, type SourceRecord } from './source-records.js';

/**
 * A Full pass re-sets the watermark to the source's newest `(cursor, key)`, so the next Incremental
 * starts there; when that lies beyond the cursor ceiling, to `newestWithin` (the newest row within
 * it that the scan saw), or it stays where it was.
 */
export async function advanceToNewest(parts: EntityParts, newestWithin: Watermark | undefined): Promise<void> {
  if (!parts.plan.source.updatedAt) return;
  const newest = await parts.fetcher.newestCursor();
  const next = newest && parts.ceiling.within(newest.cursor) ? newest : newestWithin;
  if (next) await parts.ctx.tx.unit(parts.ctx.state, () => parts.ctx.runState.writeWatermark(parts.plan.name, next));
}

/** Follows a Full scan's rows: the newest `(cursor, key)` within the cursor ceiling; rows beyond it are noted for the report. */
export class NewestWithinCeiling {
  newest: Watermark | undefined;
  /** `cursorTime` of `newest`'s cursor. */
  private newestTime = NaN;
  /** The last cursor read and its time: rows in a row often share a cursor, read once. */
  private lastCursor: string | undefined;
  private lastTime = NaN;

  constructor(private readonly parts: EntityParts) {}

  /** Takes in one row of the scan (each cursor's time read once; the newest is the first on a tie or an unreadable time). */
  see(record: KeyedRecord): void {
    const { cursor } = record;
    if (cursor === null) return;
    if (cursor !== this.lastCursor) {
      this.lastCursor = cursor;
      this.lastTime = cursorTime(cursor);
    }
    const time = this.lastTime;
    // No time (a files source's position): within the ceiling, and never newer than the first row
    // seen. Told here, before the record's key parts are asked for (a FreshRecord makes them).
    if (Number.isNaN(time) && this.newest !== undefined) return;
    if (!this.parts.ceiling.admitsTime(time, cursor, record.keyParts)) return;
    if (this.newest === undefined || time > this.newestTime) {
      this.newest = { cursor, key: record.keyParts.map((p) => p ?? '') };
      this.newestTime = time;
    }
  }
}

/**
 * Where an Incremental read resumes after a batch (rows in `(cursor, key)` order): its last usable
 * row within the cursor ceiling, or its last row within it when none was usable; undefined when the
 * whole batch lies beyond the ceiling (the watermark stays). Records beyond it are noted for the report.
 */
export function watermarkAfter(parts: EntityParts, records: KeyedRecord[], rows: Row[]): Watermark | undefined {
  const { ceiling } = parts;
  const within = records.filter((r) => ceiling.admits(r.cursor, r.keyParts));
  const last = within.length > 0 ? within[within.length - 1] : records.length > 0 ? undefined : lastRowWithin(parts, rows);
  return last ? { cursor: last.cursor!, key: last.keyParts.map((p) => p ?? '') } : undefined;
}

function lastRowWithin(parts: EntityParts, rows: Row[]): SourceRecord | undefined {
  const within = rows.map((row) => parseSourceRow(parts.plan, row)).filter((r) => parts.ceiling.within(r.cursor));
  return within[within.length - 1];
}

/** Writes the watermark inside the batch's last state unit (after its target commit); nothing when it stays. */
export function watermarkWriter(parts: EntityParts, next: Watermark | undefined): (() => Promise<void>) | undefined {
  return next && (() => parts.ctx.runState.writeWatermark(parts.plan.name, next));
}

/** Adds the report's note on rows beyond the cursor ceiling, if any. */
export function noteCursorCeiling(parts: EntityParts): void {
  const note = parts.ceiling.note();
  if (note) parts.tally.notes.push(note);
}
