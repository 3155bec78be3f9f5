import type { FieldType } from '../../api/http.js';
import type { Watermark } from '../../engine/connector.js';
import { compareKeys, type KeyCodec } from '../../engine/keys.js';
import { parseTimestamp } from './values.js';

/** Orders cursor values of one type; PostgreSQL-written watermarks (`...+00`) compare as the instants they are. */
export function compareCursors(a: string, b: string, type: FieldType): number {
  if (type === 'timestamp') return parseTimestamp(a).getTime() - parseTimestamp(b).getTime();
  if (type === 'integer' || type === 'number') return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Tie-safe `(cursor, key)` order, keys in the engine's order. */
export function compareMarks(a: Watermark, b: Watermark, type: FieldType, codec: KeyCodec): number {
  return compareCursors(a.cursor, b.cursor, type) || compareKeys(codec.encode(a.key)!, codec.encode(b.key)!);
}

/**
 * The filter value sent for a watermark: one second earlier when the server leaves the boundary out
 * and compares whole seconds. It names its zone (Z): a server may read a time without one in its own
 * zone (WordPress: the site's), which west of UTC would skip the latest changes.
 */
export function filterValue(watermark: Watermark, type: FieldType, boundary: 'Inclusive' | 'Exclusive'): string {
  if (type !== 'timestamp') return watermark.cursor;
  const at = parseTimestamp(watermark.cursor).getTime();
  const start = boundary === 'Exclusive' ? Math.floor(at / 1000) * 1000 - 1000 : at;
  return `${new Date(start).toISOString().slice(0, 19)}Z`;
}
