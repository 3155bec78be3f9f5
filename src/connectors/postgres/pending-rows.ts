import type pg from 'pg';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import { databaseOf } from '../../api/systems.js';
import { readWatermarks } from '../../store/run-state.js';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Rows each entity would read in an Incremental run: source rows past the committed watermark
 * (`(updatedAt, key) > (cursor, lastKey)`), counted up to `cap` so a huge backlog stays cheap.
 * Entities without an updatedAt cursor are compared in full: all their rows count.
 */
export async function countPendingRows(
  source: pg.ClientBase,
  state: pg.ClientBase,
  flowId: string,
  spec: SyncFlowSpec,
  cap = 1_000_000,
): Promise<Record<string, number>> {
  const marks = new Map(Object.entries(await readWatermarks(state, flowId)));
  const schema = databaseOf(spec.source, 'source')?.namespace || 'public';
  const counts: Record<string, number> = {};
  for (const entity of spec.entities) {
    const table = entity.source.table.includes('.') ? entity.source.table.split('.').map(quoteIdent).join('.') : `${quoteIdent(schema)}.${quoteIdent(entity.source.table)}`;
    const mark = marks.get(entity.name);
    const updatedAt = entity.source.updatedAt;
    let where = '';
    let values: unknown[] = [];
    if (updatedAt && mark) {
      const columns = [updatedAt, ...entity.source.keys].map(quoteIdent).join(', ');
      const params = [mark.cursor, ...mark.key].map((_, i) => (i === 0 ? `$1::timestamptz` : `$${i + 1}`)).join(', ');
      where = ` WHERE (${columns}) > (${params})`;
      values = [mark.cursor, ...mark.key];
    }
    const result = await source.query(`SELECT count(*)::bigint AS n FROM (SELECT 1 FROM ${table}${where} LIMIT ${cap}) pending`, values);
    counts[entity.name] = Number(result.rows[0].n);
  }
  return counts;
}
