import type { Load } from './dataset-sql.js';
import { LOOKUP_TABLES, LOOKUPS } from './lookups.js';
import { TIMELINE } from './plan.js';
import { literal } from '../util/sql.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Lookup rows get ids 1..n; rows are stamped in threes with the same updated_at (ties on purpose). */
export function lookupLoads(): Load[] {
  return LOOKUP_TABLES.map((table, tableIndex) => {
    const rows = LOOKUPS[table];
    const values = rows.map(([code, name], i) => {
      const updatedAt = new Date(TIMELINE.epoch + tableIndex * DAY_MS + Math.floor(i / 3) * HOUR_MS).toISOString();
      return `(${i + 1}, ${literal(code)}, ${literal(name)}, TIMESTAMPTZ '${updatedAt}')`;
    });
    return { table, rows: rows.length, sql: `INSERT INTO ${table} (id, code, name, updated_at) VALUES\n  ${values.join(',\n  ')}` };
  });
}
