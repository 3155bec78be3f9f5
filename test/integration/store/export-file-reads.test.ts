import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { getExportFile, listExportFiles, streamExportFile } from '../../../src/store/export-file-reads.js';
import { freshDatabase } from '../../helpers/databases.js';

async function archive(chunks: Buffer[]) {
  const store = await openStateStore(await freshDatabase('export_reads'));
  const db = store.pool;
  const sha256 = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
  await db.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('r1', 'crm/loyalty', 'Full', 'Succeeded')`);
  await db.query(
    `INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location) VALUES ('f1', 'r1', 'crm/loyalty', 'members', 1, 'members.csv', 3, $1, $2, 'db')`,
    [Buffer.concat(chunks).length, sha256],
  );
  for (const [seq, data] of chunks.entries()) await db.query(`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ('f1', $1, $2)`, [seq, data]);
  await db.query(`INSERT INTO ferry.export_transfers (run_id, file_id, target, status, bytes, attempts) VALUES ('r1', 'f1', 'partner', 'transferred', 10, 1)`);
  return { store, sha256 };
}

describe('export file reads (the data API’s exportfiles)', () => {
  it('streams the archived chunks in order, byte for byte, through one binary COPY', async () => {
    const chunks = [randomBytes(1024 * 1024), Buffer.from([0, 255, 10, 13, 0]), randomBytes(300_000)];
    const { store, sha256 } = await archive(chunks);
    try {
      const out: Buffer[] = [];
      for await (const piece of streamExportFile(store.pool, { id: 'f1', location: 'db' })) out.push(piece as Buffer);
      expect(Buffer.concat(out).equals(Buffer.concat(chunks))).toBe(true);
      const file = await getExportFile(store.pool, 'f1');
      expect(file).toMatchObject({ name: 'members.csv', sha256, transfers: [{ target: 'partner', status: 'transferred', bytes: 10, attempts: 1 }] });
      expect((await listExportFiles(store.pool, { flowName: 'loyalty', limit: 10 })).map((f) => f.id)).toEqual(['f1']);
      expect(await listExportFiles(store.pool, { namespace: 'other', limit: 10 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a client that stops reading mid-file leaves the pool usable (the half-read connection is dropped)', async () => {
    const { store } = await archive(Array.from({ length: 8 }, () => randomBytes(1024 * 1024)));
    try {
      const stream = streamExportFile(store.pool, { id: 'f1', location: 'db' });
      for await (const _piece of stream) break; // destroys the stream after the first piece
      for (let i = 0; i < 6; i++) expect((await store.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const again: Buffer[] = [];
      for await (const piece of streamExportFile(store.pool, { id: 'f1', location: 'db' })) again.push(piece as Buffer);
      expect(Buffer.concat(again).length).toBe(8 * 1024 * 1024);
    } finally {
      await store.close();
    }
  });

  it('a stream destroyed before it is read (a transfer that failed first) gives its session back', async () => {
    const { store } = await archive([randomBytes(1024 * 1024)]);
    try {
      // More than the pool holds (4): a kept session would leave the queries below waiting forever.
      for (let i = 0; i < 6; i++) streamExportFile(store.pool, { id: 'f1', location: 'db' }).destroy();
      const opened = streamExportFile(store.pool, { id: 'f1', location: 'db' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      opened.destroy();
      for (let i = 0; i < 6; i++) expect((await store.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(store.pool.totalCount - store.pool.idleCount).toBe(0);
    } finally {
      await store.close();
    }
  });
});
