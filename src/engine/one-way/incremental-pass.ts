import type { StoredPair } from '../../store/pairs.js';
import { inBatches } from '../../util/batches.js';
import { isDeletion } from '../connector.js';
import { writeBatch } from './batch-writer.js';
import { classify } from './classify.js';
import type { EntityParts } from './parts.js';
import { distinctByKey, latestByKey, readRecord, type KeyedRecord, type WriteItem } from './source-records.js';
import { refreshStatistics } from './statistics.js';
import { handleVanished } from './vanished.js';
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
      const deletions = new Set<KeyedRecord>();
      for (const row of batch) {
        const record = readRecord(plan, row, tally);
        if (!record) continue;
        read.push(record);
        if (isDeletion(row)) deletions.add(record);
      }
      const next = watermarkAfter(parts, read, batch);
      const latest = parts.reader.changesOnly ? latestByKey(read) : distinctByKey(plan, read, tally);
      const records = latest.filter((r) => !deletions.has(r));
      const deleted = latest.filter((r) => deletions.has(r)).map((r) => r.key);
      await pipeline.start(async () => {
        const known = await parts.pairs.bySourceKeys([...records.map((r) => r.key), ...deleted]);
        // Marked gone before the batch's write moves the watermark past them; removed by deleteVanished.
        const gone = deleted.map((key) => known.get(key)).filter((pair) => pair !== undefined && !pair.sourceGone);
        await handleVanished(parts, gone as StoredPair[]);
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
  // An Incremental first import (delta files, a cursor source) loads pairs in bulk too: the next run's look-ups need them counted.
  await refreshStatistics(parts);
  noteCursorCeiling(parts);
}
