import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { RunState } from '../../../src/store/run-state.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

const FLOW = "crm/o'brien";

describe('inflight markers begun with their transaction in one round trip (beginWithInflight)', () => {
  it('keeps every source key as it was (quotes, backslashes, other scripts), clears the markers named, and a rollback leaves none', async () => {
    const store = await openStateStore(await freshDatabase('inflight_markers'));
    const db = await store.pool.connect();
    try {
      const runState = new RunState(db, FLOW, "run-'1'\\");
      const keys = ["o'neil", 'back\\slash', '\\\'both\'\\', 'line\nbreak', 'Ελληνικά', '"quoted"', ''];
      const first = await runState.beginWithInflight("people's", keys);
      await db.query('COMMIT');
      const second = await runState.beginWithInflight('people', ['a'], [first]);
      await db.query('COMMIT');
      expect(await runState.pendingInflight()).toEqual([{ id: second, entity: 'people', sourceKeys: ['a'] }]);

      await runState.beginWithInflight('people', ['b'], [second]);
      await db.query('ROLLBACK');
      expect(await runState.pendingInflight()).toEqual([{ id: second, entity: 'people', sourceKeys: ['a'] }]);

      // With the target transaction's token (capability transactionOutcome), read back as it was written.
      const third = await runState.beginWithInflight("people's", keys, [second], "18446744073709551615'");
      await db.query('COMMIT');
      expect(await runState.pendingInflight()).toEqual([{ id: third, entity: "people's", sourceKeys: keys, targetTransaction: "18446744073709551615'" }]);
      const { rows } = await db.query('SELECT run_id FROM ferry.inflight_batches');
      expect(rows).toEqual([{ run_id: "run-'1'\\" }]);
    } finally {
      db.release();
      await store.close();
    }
  });

  it("writes a batch's new pairs and its updated ones as two markers in one statement, only the first naming the target transaction", async () => {
    const store = await openStateStore(await freshDatabase('inflight_two'));
    const db = await store.pool.connect();
    try {
      const runState = new RunState(db, FLOW, 'run-1');
      const [created, updated] = await runState.beginInflight('people', ['n1', 'n2'], ['u1'], '7654321');
      expect(await runState.pendingInflight()).toEqual([
        { id: created, entity: 'people', sourceKeys: ['n1', 'n2'], targetTransaction: '7654321' },
        { id: updated, entity: 'people', sourceKeys: ['u1'] },
      ]);
      expect(await runState.beginInflight('people', [], ['u2'], '7654322')).toHaveLength(1);
      expect(await runState.beginInflight('people', [], [])).toEqual([]);
      await runState.endInflight([created, updated]);
      expect(await runState.pendingInflight()).toEqual([{ id: expect.any(Number), entity: 'people', sourceKeys: ['u2'] }]);
    } finally {
      db.release();
      await store.close();
    }
  });

  it("keeps a batch's keys as JSON text, stored uncompressed, and reads them back whole", async () => {
    const url = await freshDatabase('inflight_text');
    const store = await openStateStore(url);
    const db = await store.pool.connect();
    try {
      const runState = new RunState(db, FLOW, 'run-1');
      // A first import's batch: 5000 keys, ~50 kB of JSON that pglz would compress well.
      const keys = Array.from({ length: 5000 }, (_, i) => `E${i + 1}`);
      const id = await runState.beginWithInflight('people', keys);
      await db.query('COMMIT');
      expect(await runState.pendingInflight()).toEqual([{ id, entity: 'people', sourceKeys: keys }]);
      // Neither parsed (jsonb) nor compressed: the server stores the text as it came.
      const { rows } = await db.query(
        `SELECT pg_typeof(source_keys)::text AS type, pg_column_compression(source_keys) AS compression, octet_length(source_keys) AS length FROM ferry.inflight_batches`,
      );
      expect(rows).toEqual([{ type: 'text', compression: null, length: JSON.stringify(keys).length }]);
    } finally {
      db.release();
      await store.close();
    }
  });

  it('reads the markers left behind by a version that kept them as jsonb (before migration 0017)', async () => {
    const url = await freshDatabase('inflight_jsonb');
    const keys = ["o'neil", 'back\\slash', 'line\nbreak', 'Ελληνικά', '"quoted"', '', 'E1\u0001p0000000000000000001'];
    // The migrations up to 0016, from a copy of the folder whose journal ends there.
    const folder = mkdtempSync(join(tmpdir(), 'ferry-migrations-'));
    try {
      cpSync(fileURLToPath(new URL('../../../drizzle', import.meta.url)), folder, { recursive: true });
      const journalFile = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
      const before = journal.entries.findIndex((e) => e.tag.startsWith('0017_'));
      expect(before).toBeGreaterThan(0);
      writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, before) }));
      await withClient(url, async (c) => {
        await migrate(drizzle(c), { migrationsFolder: folder, migrationsSchema: 'ferry' });
        await c.query(`INSERT INTO ferry.inflight_batches (flow, entity, run_id, source_keys) VALUES ($1, 'people', 'run-0', $2::jsonb)`, [FLOW, JSON.stringify(keys)]);
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    const store = await openStateStore(url);
    const db = await store.pool.connect();
    try {
      expect(await new RunState(db, FLOW, 'run-1').pendingInflight()).toEqual([{ id: expect.any(Number), entity: 'people', sourceKeys: keys }]);
    } finally {
      db.release();
      await store.close();
    }
  });
});
