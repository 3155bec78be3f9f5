import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { encodeInteger } from '../../../src/engine/keys.js';
import { runLocally } from '../../../src/local/local-run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, TARGET_SQL } from './files-source.js';
import { writeManifests } from './kill-run.js';

const logger = pino({ level: 'silent' });
const SNAPSHOT: FileSource = { pattern: 'staff-*.csv', contents: 'Snapshot', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const BATCH = 50;
const PEOPLE = 500;
/** Row 120 does not fit salary numeric(10,2) (a cast rejection); row 333 breaks a CHECK constraint (a write rejection). */
const line = (i: number) => (i === 120 ? `${i};Person ${i};;123456789012.5;` : i === 333 ? `${i};Nobody;;;` : `${i};Person ${i};${NOTES[i] ?? ''};;`);
/** Rows beside the refused ones, in their batches, whose values COPY text escapes (they go in one by one, as read back from that text). */
const NOTES: Record<number, string> = { 119: 'back\\slash\ttab \\N (x), y', 121: 'Zürich 🙂 \\.', 334: '\\\\two' };
const FILE = Buffer.from(['no;name;note;salary;born', ...Array.from({ length: PEOPLE }, (_, i) => line(i + 1))].join('\n'));

/**
 * A first import writes batches of fresh rows into a shared target transaction (grouped-batches.ts).
 * When a batch's COPY fails, its rows go in one by one: the rows that do not fit are rejected, get
 * no pair, and the rest of the batch and of the group lands once.
 */
describe('files source: the first import of a snapshot with rows the target refuses', () => {
  const scratch: string[] = [];

  afterAll(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('rejects those rows alone, pairs every other row once, and a re-run writes nothing', async () => {
    const [dir, manifests] = await Promise.all([mkdtemp(join(tmpdir(), 'ferry-first-rejects-')), mkdtemp(join(tmpdir(), 'ferry-first-rejects-manifests-'))]);
    scratch.push(dir, manifests);
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_firstrejects_dst'), freshDatabase('files_firstrejects_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL + `ALTER TABLE staff ADD CONSTRAINT staff_named CHECK (name <> 'Nobody');`));
    const spec: SyncFlowSpec = { ...filesFlowSpec({ directory: dir, settleSeconds: 0 }, SNAPSHOT), batchSize: BATCH };
    await writeManifests(manifests, spec, targetUrl);
    await drop(dir, 'staff-1.csv', FILE);
    const run = async () => (await runLocally({ files: [manifests], flow: 'payroll', mode: 'Full', stateDb: stateUrl, logger }))[0]!;

    const first = await run();
    expect([first.totals.created, first.totals.rejected]).toEqual([PEOPLE - 2, 2]);
    const staff = await sqlRows(targetUrl, 'SELECT id::text AS id, employee_no FROM staff');
    expect(staff).toHaveLength(PEOPLE - 2);
    expect(staff.map((r) => r.employee_no).filter((no) => no === '120' || no === '333')).toEqual([]);
    const pairs = await withClient(stateUrl, async (c) => ({
      rows: (
        await c.query(
          `SELECT source_key, target_key, source_hash, target_hash, source_cursor FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'default/payroll'`,
        )
      ).rows,
      markers: (await c.query(`SELECT count(*)::int AS n FROM ferry.inflight_batches`)).rows[0].n as number,
    }));
    expect(pairs.markers).toBe(0);
    expect(pairs.rows).toHaveLength(PEOPLE - 2);
    const ids = new Set(staff.map((r) => encodeInteger(String(r.id))));
    expect(pairs.rows.filter((p) => !ids.has(p.target_key))).toEqual([]);
    // Each pair's source fields (written as its row was read) and target hash in their columns: an md5 each, and the row's own position.
    expect(pairs.rows.filter((p) => !/^[0-9a-f]{32}$/.test(p.source_hash) || !/^[0-9a-f]{32}$/.test(p.target_hash) || !/^\d+:\d+$/.test(p.source_cursor))).toEqual([]);
    expect(new Set(pairs.rows.map((p) => p.source_cursor)).size).toBe(PEOPLE - 2);

    const notes = await sqlRows(targetUrl, `SELECT employee_no, note FROM staff WHERE employee_no IN ('119', '121', '334') ORDER BY employee_no`);
    expect(notes).toEqual(Object.entries(NOTES).map(([no, note]) => ({ employee_no: no, note })));
    expect(await sqlRows(targetUrl, `SELECT count(*)::int AS n FROM staff WHERE note IS NOT NULL`)).toEqual([{ n: 3 }]);

    const again = await run();
    expect([again.totals.created, again.totals.updated, again.totals.rejected]).toEqual([0, 0, 2]);
    expect(await sqlRows(targetUrl, 'SELECT count(*)::int AS n FROM staff')).toEqual([{ n: PEOPLE - 2 }]);
  }, 120_000);
});
