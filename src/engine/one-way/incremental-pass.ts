import { inBatches } from '../../util/batches.js';
import { writeBatch } from './batch-writer.js';
import { classify } from './classify.js';
import type { EntityParts } from './parts.js';
import { distinctByKey, latestByKey, readRecord, type KeyedRecord, type WriteItem } from './source-records.js';
import { noteCursorCeiling, watermarkAfter, watermarkWriter } from './watermark.js';
import { WritePipeline } from './write-pipeline.js';

/**
 * An Incremental pass: reads the rows past the watermark in tie-safe `(cursor, key)` order, in
 * batches; each batch is compared with its pairs, written, and moves the watermark to its last row
 * in the same state unit that clears its inflight marker. No key order is assumed.
 */
export async function incrementalPass(parts: EntityParts): Promise<void> {
  const { plan, ctx, tally } = parts;
  await parts.prepare();
  const watermark = await ctx.runState.readWatermark(plan.name);
  const rows = parts.reader.changedSince(watermark);
  const pipeline = new WritePipeline();
  try {
    for await (const batch of inBatches(rows, ctx.batchSize)) {
      const read: KeyedRecord[] = [];
      for (const row of batch) {
        const record = readRecord(plan, row, tally);
        if (record) read.push(record);
      }
      const next = watermarkAfter(parts, read, batch);
      const records = parts.reader.changesOnly ? latestByKey(read) : distinctByKey(plan, read, tally);
      await pipeline.start(async () => {
        const known = await parts.pairs.bySourceKeys(records.map((r) => r.key));
        const writes: WriteItem[] = [];
        for (const record of records) {
          const write = classify(plan, record, known.get(record.key), parts.matching, tally);
          if (write) writes.push(write);
        }
        await writeBatch(parts, writes, watermarkWriter(parts, next));
      });
    }
  } finally {
    await pipeline.settle();
  }
  noteCursorCeiling(parts);
}
