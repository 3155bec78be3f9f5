import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { chunksOf } from '../../../src/util/batches.js';
import { copyOutRows } from '../../../src/util/copy-out.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { heapAfterGc } from '../../helpers/heap.js';

describe('copyOutRows', () => {
  it('gives rows whole however the chunks cut them: a row longer than a chunk, multi-byte characters, escapes, nulls', async () => {
    const url = await freshDatabase('copy_out_rows');
    await withClient(url, async (client) => {
      const query = `SELECT g, repeat('ü✓', g * 20000), E'tab\\there', NULL FROM generate_series(1, 3) g`;
      const rows = [];
      for await (const row of copyOutRows(client, query)) rows.push(row);
      expect(rows).toEqual([1, 2, 3].map((g) => [String(g), 'ü✓'.repeat(g * 20000), 'tab\there', null]));
    });
  });

  it('gives empty fields where they are, first, inner and last, and a one-field row', async () => {
    const url = await freshDatabase('copy_out_empty');
    await withClient(url, async (client) => {
      const rows = [];
      for await (const row of copyOutRows(client, `SELECT '', 'a', '', NULL, '' UNION ALL SELECT 'x', '', '\\N', '', 'y'`)) rows.push(row);
      expect(rows).toEqual([['', 'a', '', null, ''], ['x', '', '\\N', '', 'y']]);
      const single = [];
      for await (const row of copyOutRows(client, `SELECT '' UNION ALL SELECT 'z'`)) single.push(row);
      expect(single).toEqual([[''], ['z']]);
    });
  });

  it('answers next() calls made before the earlier ones settled in order, and is done once the consumer stopped', async () => {
    const url = await freshDatabase('copy_out_early_stop');
    await withClient(url, async (client) => {
      const rows = copyOutRows(client, `SELECT g FROM generate_series(1, 200000) g`);
      const steps = await Promise.all(Array.from({ length: 5 }, () => rows.next()));
      expect(steps.map((s) => s.value)).toEqual([['1'], ['2'], ['3'], ['4'], ['5']]);
      let seen = 0;
      for await (const row of rows) if (++seen === 1000) break;
      expect(seen).toBe(1000);
      expect(await rows.next()).toEqual({ value: undefined, done: true });
    });
  });

  it('leaves the connection ready for its next statement when the consumer stops early or throws, mid-way through a long COPY', async () => {
    const url = await freshDatabase('copy_out_stop_then_query');
    await withClient(url, async (client) => {
      // ~20 MB of COPY text: far more than the socket buffers when the consumer stops after 1000 rows.
      const query = `SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g`;
      let seen = 0;
      for await (const row of copyOutRows(client, query)) if (++seen === 1000 && row[0] === '1000') break;
      expect(seen).toBe(1000);
      expect(await answeredWithin(client, 'SELECT 41 + 1 AS x', 10_000)).toEqual([{ x: 42 }]);

      const failing = (async () => {
        for await (const row of copyOutRows(client, query)) if (row[0] === '500') throw new Error('the consumer failed');
      })();
      await expect(failing).rejects.toThrow('the consumer failed');
      expect(await answeredWithin(client, 'SELECT 43 AS x', 10_000)).toEqual([{ x: 43 }]);
    });
  });

  it('gives chunksOf its parsed arrays, not groups of the fallback size: the rest of a chunk begun row by row, then whole ones', async () => {
    const url = await freshDatabase('copy_out_in_chunks');
    await withClient(url, async (client) => {
      const query = `SELECT g, md5(g::text) FROM generate_series(1, 30000) g`;
      const all = Array.from({ length: 30000 }, (_, i) => String(i + 1));
      const chunks: string[][] = [];
      for await (const rows of chunksOf(copyOutRows(client, query), 7)) chunks.push(rows.map((row) => row[0]!));
      expect(chunks.flat()).toEqual(all);
      // A socket chunk holds far more than 7 of these ~40-byte lines.
      expect(Math.max(...chunks.map((rows) => rows.length))).toBeGreaterThan(100);

      const rows = copyOutRows(client, query);
      const first = [(await rows.next()).value![0], (await rows.next()).value![0], (await rows.next()).value![0]];
      const rest: string[] = [];
      for await (const chunk of chunksOf(rows, 7)) for (const row of chunk) rest.push(row[0]!);
      expect([...first, ...rest]).toEqual(all);
      expect(await rows.next()).toEqual({ value: undefined, done: true });
    });
  });

  it('ends the COPY when a consumer of its chunks stops early or throws: the connection answers its next statement', async () => {
    const url = await freshDatabase('copy_out_chunks_stop');
    await withClient(url, async (client) => {
      const query = `SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g`;
      let chunks = 0;
      for await (const rows of chunksOf(copyOutRows(client, query), 7)) if (++chunks === 3 && rows.length > 0) break;
      expect(chunks).toBe(3);
      expect(await answeredWithin(client, 'SELECT 41 + 1 AS x', 10_000)).toEqual([{ x: 42 }]);

      const failing = (async () => {
        for await (const rows of chunksOf(copyOutRows(client, query), 7)) if (rows.some((row) => row[0] === '500')) throw new Error('the consumer failed');
      })();
      await expect(failing).rejects.toThrow('the consumer failed');
      expect(await answeredWithin(client, 'SELECT 43 AS x', 10_000)).toEqual([{ x: 43 }]);
    });
  });

  it('groups a stream without chunks of its own in arrays of the size asked for (chunksOf)', async () => {
    async function* rows(): AsyncGenerator<string[]> {
      for (let i = 1; i <= 10; i++) yield [String(i)];
    }
    const chunks: string[][] = [];
    for await (const chunk of chunksOf(rows(), 4)) chunks.push(chunk.map((row) => row[0]!));
    expect(chunks).toEqual([['1', '2', '3', '4'], ['5', '6', '7', '8'], ['9', '10']]);
  });

  it('keeps no chunk alive through a value kept from it: a few values kept per chunk hold their rows, not the stream', async () => {
    const url = await freshDatabase('copy_out_retained');
    await withClient(url, async (client) => {
      // ~24 MB of COPY text; a value of every 100th row is kept (a few per chunk of the socket's, like vanished pairs waiting for their batch).
      const query = `SELECT g, md5(g::text) || md5(g::text), repeat('x', 150) FROM generate_series(1, 100000) g`;
      const kept: string[] = [];
      const before = heapAfterGc();
      for await (const row of copyOutRows(client, query)) if (Number(row[0]) % 100 === 0) kept.push(row[1]!);
      const held = heapAfterGc() - before;
      expect(kept).toHaveLength(1000);
      // Each kept value holds at most its own line (~230 bytes): some 0.25 MB, where values sliced from the chunks' text held them all (~24 MB).
      expect(held).toBeLessThan(5 * 1024 * 1024);
    });
  });
});

/** The rows of `sql`, or a failure naming the wait when the connection does not answer in time (a COPY left half-read holds it). */
async function answeredWithin(client: pg.ClientBase, sql: string, ms: number): Promise<unknown[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer to ${sql} within ${ms} ms`)), ms)));
  try {
    return (await Promise.race([client.query(sql), timeout])).rows;
  } finally {
    clearTimeout(timer);
  }
}
