import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { runLocally } from '../../../src/local/local-run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, TARGET_SQL } from './files-source.js';
import { ferryRun, writeManifests, WRITES_SQL } from './kill-run.js';

const logger = pino({ level: 'silent' });
const SNAPSHOT: FileSource = { pattern: 'staff-*.csv', contents: 'Snapshot', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const BATCH = 50;

const csv = (ids: number[], name: (id: number) => string) => Buffer.from(['no;name;note;salary;born', ...ids.map((id) => `${id};${name(id)};;;`)].join('\n'));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Day 1: people 1-500. Day 2: 1-100 gone (archived), 101-400 the same, 401-500 renamed, 501-700 new: 300 writes, 6 batches, then 100 archived. */
const DAY1 = csv(range(1, 500), (id) => `Person ${id}`);
const DAY2 = csv(range(101, 700), (id) => (id > 400 && id <= 500 ? `Person ${id} (married)` : `Person ${id}`));

function spec(dir: string): SyncFlowSpec {
  const flow = { ...filesFlowSpec({ directory: dir, settleSeconds: 0, afterImport: 'Move' }, SNAPSHOT), batchSize: BATCH };
  // Gone from the snapshot: archived in the target (the failpoint vanished:archived sits between the archive and the pairs).
  flow.entities[0]!.actions = ['link', 'createInTarget', 'updateTarget', 'archiveInTarget'];
  return flow;
}

interface World {
  dir: string;
  manifests: string;
  targetUrl: string;
  stateUrl: string;
}

/** Empty directories for the files and the manifests, a target with its write log and a state DB, named by `name`; the directories go into `scratch`. */
async function emptyWorld(name: string, scratch: string[]): Promise<World> {
  const [dir, manifests] = await Promise.all([mkdtemp(join(tmpdir(), `ferry-${name}-`)), mkdtemp(join(tmpdir(), `ferry-${name}-manifests-`))]);
  scratch.push(dir, manifests);
  const db = name.replaceAll('-', '_');
  const [targetUrl, stateUrl] = await Promise.all([freshDatabase(`files_${db}_dst`), freshDatabase(`files_${db}_state`)]);
  await withClient(targetUrl, (c) => c.query(TARGET_SQL + WRITES_SQL));
  await writeManifests(manifests, spec(dir), targetUrl);
  return { dir, manifests, targetUrl, stateUrl };
}

/** A snapshot's Full run SIGKILLed mid-apply, then run again: the target as after an uninterrupted run, each write once, the file imported once. */
describe('files source: SIGKILL during a snapshot Full run, then a re-run', () => {
  const scratch: string[] = [];
  let worlds = 0;
  let expectedStaff: Record<string, unknown>[];
  let expectedWrites: Record<string, unknown>[];

  /** A target and state DB with day 1 imported, and day 2's snapshot waiting. */
  async function world(): Promise<World> {
    const w = await emptyWorld(`snapcrash${++worlds}`, scratch);
    const { dir } = w;
    await drop(dir, 'staff-1.csv', DAY1);
    expect((await run(w)).totals.created).toBe(500);
    await drop(dir, 'staff-2.csv', DAY2);
    await utimes(join(dir, 'staff-2.csv'), 1_700_000_000, 1_700_000_000);
    return w;
  }

  // The re-run, through the same local runner as ferry run -f (in process: a spawn costs ~20 s here).
  const run = async (w: World) => (await runLocally({ files: [w.manifests], flow: 'payroll', mode: 'Full', stateDb: w.stateUrl, logger }))[0]!;
  const writes = (w: World) => sqlRows(w.targetUrl, 'SELECT employee_no, name FROM staff_writes ORDER BY n');
  const staff = (w: World) => sqlRows(w.targetUrl, 'SELECT employee_no, name, archived FROM staff ORDER BY employee_no::int');
  const records = (w: World) => withClient(w.stateUrl, (c) => sourceFiles(c, 'default/payroll'));

  beforeAll(async () => {
    const clean = await world();
    const report = await run(clean);
    expect(report.totals).toMatchObject({ read: 600, created: 200, updated: 100 });
    expect(report.entities[0]!.archived).toBe(100);
    expectedStaff = await staff(clean);
    expectedWrites = await writes(clean);
    expect(expectedStaff).toHaveLength(700);
    expect(expectedStaff.filter((s) => s.archived)).toHaveLength(100);
    // 500 creates on day 1, then 200 creates, 100 renames and 100 archivals.
    expect(expectedWrites).toHaveLength(900);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  // Batch 3 of 6: between the pairs' and the target's commit; vanished:archived: the people gone are
  // archived, their pairs not yet marked; files:finish-run: after every commit, before the file is recorded.
  for (const failpoint of ['batch:pairs-committed:3', 'vanished:archived:1', 'files:finish-run:1']) {
    it(`killed at ${failpoint}`, async () => {
      const w = await world();
      const killed = await ferryRun(w.manifests, w.stateUrl, 'Full', failpoint);
      expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
      expect((await records(w)).map((f) => [f.name, f.status])).toEqual([
        ['staff-1.csv', 'imported'],
        ['staff-2.csv', 'pending'],
      ]);

      await run(w);
      expect(await staff(w)).toEqual(expectedStaff);
      expect(await writes(w)).toEqual(expectedWrites);
      expect((await records(w)).map((f) => [f.name, f.status, f.path])).toEqual([
        ['staff-1.csv', 'imported', 'processed/staff-1.csv'],
        ['staff-2.csv', 'imported', 'processed/staff-2.csv'],
      ]);
      // Imported once: a further Full run finds nothing to write.
      const again = await run(w);
      expect([again.totals.created, again.totals.updated, again.entities[0]!.archived]).toEqual([0, 0, 0]);
      expect(await writes(w)).toHaveLength(expectedWrites.length);
    }, 120_000);
  }
});

/**
 * An Incremental import of a snapshot resumes after the last row applied. A line past that point
 * that repeats a key from before it is still a repeat: rejected as in an uninterrupted run, not
 * applied over the first line's row.
 */
describe('files source: SIGKILL during an Incremental snapshot import, then a resumed re-run', () => {
  const scratch: string[] = [];

  afterAll(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a key first seen before the kill and repeated after it is rejected naming its first line', async () => {
    const w = await emptyWorld('snapresume', scratch);
    const { dir, manifests, targetUrl, stateUrl } = w;
    // People 1-500 on lines 2-501, then person 1 again (line 502) and person 501 (line 503).
    const file = Buffer.concat([csv(range(1, 500), (id) => `Person ${id}`), Buffer.from('\n1;Impostor;;;\n501;Person 501;;;')]);
    await drop(dir, 'staff-1.csv', file);
    await utimes(join(dir, 'staff-1.csv'), 1_700_000_000, 1_700_000_000);

    // Killed after three batches of 50 committed their pairs: the re-run resumes mid-file.
    const killed = await ferryRun(manifests, stateUrl, 'Incremental', 'batch:pairs-committed:3');
    expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
    const before = await writes(w);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(500);

    const report = (await runLocally({ files: [manifests], flow: 'payroll', mode: 'Incremental', stateDb: stateUrl, logger }))[0]!;
    expect(report.totals.read).toBeLessThan(500);
    expect(report.rejectedSamples.map((r) => r.reason)).toEqual(['staff-1.csv line 502: duplicate key (first at line 2)']);
    const people = await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no::int');
    expect(people).toEqual(range(1, 501).map((id) => ({ employee_no: String(id), name: `Person ${id}` })));
    // Each person written once: the rows before the kill were not applied again.
    expect((await writes(w)).map((r) => r.employee_no).sort()).toEqual(range(1, 501).map(String).sort());
  }, 120_000);

  const writes = (w: World) => sqlRows(w.targetUrl, 'SELECT employee_no, name FROM staff_writes ORDER BY n');
});
