import { MINUTE_MS, TIMELINE } from './plan.js';
import type { SqlNoise } from './sql-noise.js';

/** A timestamptz literal. */
export function ts(ms: number): string {
  return `TIMESTAMPTZ '${new Date(ms).toISOString()}'`;
}

/** `base` plus a number of minutes given as an SQL expression. */
export function minutesAfter(baseMs: number, minutes: string): string {
  return `(${ts(baseMs)} + (${minutes}) * INTERVAL '1 minute')`;
}

const CREATED_SPAN_MIN = (TIMELINE.lastCreated - TIMELINE.epoch) / MINUTE_MS;
const TOTAL_SPAN_MIN = (TIMELINE.asOf - TIMELINE.epoch) / MINUTE_MS;
const CHILD_SPAN_MIN = (3 * 365 * 24 * 60);

/** Minutes after the epoch at which a row was created; select it once as a column named `c`. */
export function createdMinute(noise: SqlNoise, row: string, table: string): string {
  return noise.below(CREATED_SPAN_MIN, row, `${table}.created`);
}

export function createdAt(c: string): string {
  return minutesAfter(TIMELINE.epoch, c);
}

/** Somewhere between creation and the as-of date, or the shared bulk-update instant. */
export function updatedAfterCreation(noise: SqlNoise, row: string, table: string, c: string): string {
  const minutes = `${c} + ${noise.int(row, `${table}.updated`)} % (${TOTAL_SPAN_MIN} - ${c} + 1)`;
  return `CASE WHEN ${noise.chance(5, row, `${table}.bulk`)} THEN ${ts(TIMELINE.bulkUpdate)} ELSE ${minutesAfter(TIMELINE.epoch, minutes)} END`;
}

/** updated_at of a child row: within three years before the as-of date, or the bulk-update instant. */
export function childUpdatedAt(noise: SqlNoise, row: string, table: string): string {
  const minutesBefore = noise.below(CHILD_SPAN_MIN, row, `${table}.updated`);
  return `CASE WHEN ${noise.chance(5, row, `${table}.bulk`)} THEN ${ts(TIMELINE.bulkUpdate)} ` +
    `ELSE ${ts(TIMELINE.asOf)} - (${minutesBefore}) * INTERVAL '1 minute' END`;
}
