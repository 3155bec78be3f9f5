import { cp, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { runLocally } from '../../../src/local/local-run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, TARGET_SQL } from './files-source.js';
import { ferryRun, writeManifests, WRITES_SQL } from './kill-run.js';

const logger = pino({ level: 'silent' });
const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const BATCH = 50;

/** Three delta files: 400 new people each; the third also changes 60 people of the first. */
async function partnerFiles(dir: string): Promise<void> {
  const csv = (lines: string[]) => Buffer.from(['no;name;note;salary;born', ...lines].join('\n'));
  const people = (from: number, suffix = '') => Array.from({ length: 400 }, (_, i) => `${from + i};Person ${from + i}${suffix};;;`);
  await drop(dir, 'changes-1.csv', csv(people(1)));
  await drop(dir, 'changes-2.csv', csv(people(401)));
  await drop(dir, 'changes-3.csv', csv([...people(801), ...people(1, ' (moved)').slice(100, 160)]));
  for (const [i, name] of ['changes-1.csv', 'changes-2.csv', 'changes-3.csv'].entries()) await utimes(join(dir, name), 1_700_000_000 + i, 1_700_000_000 + i);
}

interface World {
  dir: string;
  manifests: string;
  targetUrl: string;
  stateUrl: string;
}

describe('files source: SIGKILL during an import, then a re-run: every row applied once, no file imported twice or skipped', () => {
  let original: string;
  const scratch: string[] = [];
  let worlds = 0;

  async function world(): Promise<World> {
    const n = ++worlds;
    const dir = await mkdtemp(join(tmpdir(), 'ferry-files-crash-'));
    scratch.push(dir);
    await cp(original, dir, { recursive: true, preserveTimestamps: true });
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase(`files_crash_dst${n}`), freshDatabase(`files_crash_state${n}`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL + WRITES_SQL));
    const manifests = await mkdtemp(join(tmpdir(), 'ferry-files-crash-manifests-'));
    scratch.push(manifests);
    const spec = { ...filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move' }, DELTA), batchSize: BATCH };
    await writeManifests(manifests, spec, targetUrl);
    return { dir, manifests, targetUrl, stateUrl };
  }

  const writes = (w: World) => sqlRows(w.targetUrl, 'SELECT employee_no, name FROM staff_writes ORDER BY n');
  const staff = (w: World) => sqlRows(w.targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no');
  // ferry run -f names the flow namespace/name.
  const records = (w: World) => withClient(w.stateUrl, (c) => sourceFiles(c, 'default/payroll'));
  const rerun = (w: World) => runLocally({ files: [w.manifests], flow: 'payroll', mode: 'Incremental', stateDb: w.stateUrl, logger });

  let expectedStaff: Record<string, unknown>[];
  let expectedWrites: Record<string, unknown>[];

  beforeAll(async () => {
    original = await inbox();
    scratch.push(original);
    await partnerFiles(original);
    // The reference: one uninterrupted run (in process).
    const clean = await world();
    const spec = { ...filesFlowSpec({ directory: clean.dir, settleSeconds: 0, afterImport: 'Move' }, DELTA), batchSize: BATCH };
    const report = await runSync({ flowId: 'payroll', spec, mode: 'Incremental', sourceUrl: '', targetUrl: clean.targetUrl, stateUrl: clean.stateUrl, logger });
    expect(report.totals.read).toBe(1260);
    expectedStaff = await staff(clean);
    expectedWrites = await writes(clean);
    expect(expectedStaff).toHaveLength(1200);
    expect(expectedWrites).toHaveLength(1260);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  // Batches of 50: the 11th is mid changes-2 (between the pairs' and the target's commit); files:finish-run comes after every commit.
  for (const failpoint of ['batch:pairs-committed:11', 'files:finish-run:1']) {
    it(`killed at ${failpoint}`, async () => {
      const w = await world();
      const killed = await ferryRun(w.manifests, w.stateUrl, 'Incremental', failpoint);
      expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
      // Nothing is recorded imported before the run's end: the file record never runs ahead of the target.
      expect((await records(w)).filter((f) => f.status === 'imported')).toEqual([]);

      // The re-run, through the same local runner as ferry run -f (in process: a spawn costs ~20 s here).
      await rerun(w);
      expect(await staff(w)).toEqual(expectedStaff);
      // Each committed write exactly once: no row of a file applied twice, none skipped.
      expect(await writes(w)).toEqual(expectedWrites);
      expect((await records(w)).map((f) => [f.name, f.status, f.path])).toEqual([
        ['changes-1.csv', 'imported', 'processed/changes-1.csv'],
        ['changes-2.csv', 'imported', 'processed/changes-2.csv'],
        ['changes-3.csv', 'imported', 'processed/changes-3.csv'],
      ]);
      expect((await rerun(w))[0]!.totals.read).toBe(0);
      expect(await writes(w)).toHaveLength(expectedWrites.length);
    }, 120_000);
  }
});
