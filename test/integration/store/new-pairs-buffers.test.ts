import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { PairStore } from '../../../src/store/pairs.js';
import { freshDatabase } from '../../helpers/databases.js';

/**
 * A PairStore hands the buffer of new pairs whose COPY is over to its next batch (`newPairs`), so a
 * run does not allocate ~0.5 MB of Buffer per batch. What a batch sends must be its own pairs only:
 * nothing of a longer batch written before into the same buffer, nothing of a batch still in flight.
 */
describe('new pairs reuse the buffer of a batch already sent', () => {
  it('writes each batch exactly, hands a sent buffer on, and keeps the buffer of a batch whose COPY failed out of the round', async () => {
    const store = await openStateStore(await freshDatabase('new_pairs_buffers'));
    const db = await store.pool.connect();
    try {
      const pairs = new PairStore(db, 'crm/members', 'people');
      const long = 'x'.repeat(2_000);
      // Batch 1: long cursors, so its bytes run far past what batch 3 writes into the same buffer.
      const first = await pairs.newPairs();
      for (let i = 0; i < 50; i++) first.add(`a${i}`, `ta${i}`, `h${i}`, null, `${long}${i}`);
      const firstBuffer = first.toBuffer().buffer;
      // Batch 2 is built while batch 1 is in flight: it gets a buffer of its own.
      const second = await pairs.newPairs();
      second.add('b1', 'tb1', 'hb', 'th', null);
      expect(second.toBuffer().buffer).not.toBe(firstBuffer);
      await pairs.insertNewPairs(first);
      expect(() => first.toBuffer()).toThrow(/already written/);
      expect(first.count).toBe(50);
      // Batch 3 after batch 1 was sent: batch 1's buffer, cleared.
      const third = await pairs.newPairs();
      expect(third.toBuffer().length).toBe(0);
      third.add('c1', 'tc1', null, null, 'short');
      expect(third.toBuffer().buffer).toBe(firstBuffer);
      await pairs.insertNewPairs(second);
      await pairs.insertNewPairs(third);

      // A batch whose COPY fails (a source key that already has a pair) does not give its buffer back.
      const failing = await pairs.newPairs();
      failing.add('a1', 'tx', null, null, null);
      const failingBuffer = failing.toBuffer().buffer;
      await db.query('BEGIN');
      await expect(pairs.insertNewPairs(failing)).rejects.toThrow(/duplicate key/);
      await db.query('ROLLBACK');
      const after = await pairs.newPairs();
      after.add('d1', 'td1', null, null, null);
      expect(after.toBuffer().buffer).not.toBe(failingBuffer);
      await pairs.insertNewPairs(after);

      const { rows } = await db.query(
        `SELECT source_key, target_key, source_hash, target_hash, source_cursor FROM ferry.pairs p JOIN ferry.pair_scopes s ON s.id = p.scope
          WHERE s.flow = 'crm/members' ORDER BY source_key`,
      );
      expect(rows).toHaveLength(53);
      expect(rows.filter((r) => r.source_key.startsWith('a')).every((r) => r.source_cursor === `${long}${r.source_key.slice(1)}`)).toBe(true);
      expect(rows.filter((r) => !r.source_key.startsWith('a'))).toEqual([
        { source_key: 'b1', target_key: 'tb1', source_hash: 'hb', target_hash: 'th', source_cursor: null },
        { source_key: 'c1', target_key: 'tc1', source_hash: null, target_hash: null, source_cursor: 'short' },
        { source_key: 'd1', target_key: 'td1', source_hash: null, target_hash: null, source_cursor: null },
      ]);
    } finally {
      db.release();
      await store.close();
    }
  });
});
