import type { PrefetchedRows } from '../record-prefetch.js';
import { writeBatch } from './batch-writer.js';
import { classify } from './classify.js';
import type { EntityParts } from './parts.js';
import { distinctByKey, readRecord, type KeyedRecord, type WriteItem } from './source-records.js';

/**
 * Record mode: syncs just these source rows (plain key parts), read by key (or handed over already
 * read) and written through the same batch writer as the other modes. Never moves the watermark:
 * the next Incremental run still reads these rows, and finds them unchanged.
 */
export async function keysPass(parts: EntityParts, keys: string[][], prefetched?: PrefetchedRows): Promise<void> {
  const { plan, ctx, tally } = parts;
  let prepared = false;
  const total = prefetched ? prefetched.rows.length : keys.length;
  for (let i = 0; i < total; i += ctx.batchSize) {
    const read: KeyedRecord[] = [];
    const rows = prefetched ? prefetched.rows.slice(i, i + ctx.batchSize) : parts.fetcher.byKeys(keys.slice(i, i + ctx.batchSize));
    for await (const row of rows) {
      const record = readRecord(plan, row, tally);
      if (record) read.push(record);
    }
    const records = distinctByKey(plan, read, tally);
    const known = prefetched ? prefetched.pairs : await parts.pairs.bySourceKeys(records.map((r) => r.key));
    // Matching only matters for rows without a pair; most Record runs have none.
    if (!prepared && records.some((r) => !known.has(r.key))) {
      await parts.prepare();
      prepared = true;
    }
    const writes: WriteItem[] = [];
    for (const record of records) {
      const write = classify(plan, record, known.get(record.key), parts.matching, tally);
      if (write) writes.push(write);
    }
    await writeBatch(parts, writes);
  }
}
