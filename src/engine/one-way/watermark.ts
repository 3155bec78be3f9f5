import type { Watermark } from '../../store/run-state.js';
import type { Row } from '../connector.js';
import type { EntityPlan } from '../plan.js';
import type { EntityParts } from './parts.js';
import { parseSourceRow, type KeyedRecord } from './source-records.js';

/** A Full pass re-sets the watermark to the source's newest `(cursor, key)`, so the next Incremental starts there. */
export async function advanceToNewest(parts: EntityParts): Promise<void> {
  if (!parts.plan.source.updatedAt) return;
  const newest = await parts.fetcher.newestCursor();
  if (newest) await parts.ctx.tx.unit(parts.ctx.state, () => parts.ctx.runState.writeWatermark(parts.plan.name, newest));
}

/** Where an Incremental read resumes after a batch: its last usable row, or its last row when none was usable. */
export function watermarkAfter(plan: EntityPlan, records: KeyedRecord[], rows: Row[]): Watermark {
  const last = records.length > 0 ? records[records.length - 1] : parseSourceRow(plan, rows[rows.length - 1]);
  return { cursor: last.cursor!, key: last.keyParts.map((p) => p ?? '') };
}

/** Writes the watermark inside the batch's last state unit (after its target commit). */
export function watermarkWriter(parts: EntityParts, next: Watermark): () => Promise<void> {
  return () => parts.ctx.runState.writeWatermark(parts.plan.name, next);
}
