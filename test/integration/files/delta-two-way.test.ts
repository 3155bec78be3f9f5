import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entity } from '../../../src/api/entity.js';
import type { FileSource } from '../../../src/api/files.js';
import type { SyncFlow, SyncFlowSpec } from '../../../src/api/syncflow.js';
import type { Resolution } from '../../../src/api/syncjob.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import { connectorFor } from '../../../src/connectors/index.js';
import { runSync } from '../../../src/connectors/run.js';
import { listPairs } from '../../../src/engine/two-way/inspect.js';
import type { RunReport } from '../../../src/engine/report.js';
import { runLocally } from '../../../src/local/local-run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, inbox, mariaDbStaff, twoWayEmployees } from './files-source.js';
import { ferryRun, writeManifests, WRITES_SQL } from './kill-run.js';

const logger = pino({ level: 'silent' });

/** Changes only, applied in file order; a line whose op is D deletes its record. */
const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', deletedWhen: { column: 'op', values: ['D'] } };
const ACTIONS: Entity['actions'] = ['link', 'createInTarget', 'updateTarget', 'archiveInTarget'];

const STAFF_SQL = `
CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text,
  archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN NEW.changed_at := clock_timestamp(); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER staff_touch BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO staff (employee_no, name, note) VALUES ('1', 'Ann Old', 'hello'), ('2', 'Bob', 'x'), ('9', 'Dora', 'db only');`;

function deltaSpec(dir: string): SyncFlowSpec {
  const employees = twoWayEmployees(ACTIONS);
  return {
    direction: 'TwoWay',
    source: { files: { directory: dir, settleSeconds: 0, afterImport: 'Leave' } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    batchSize: 2,
    entities: [{ ...employees, source: { ...employees.source, file: DELTA } }],
  } as SyncFlowSpec;
}

const csv = (...rows: string[]) => Buffer.from(['no,name,note,op', ...rows, ''].join('\n'));
const entity = (report: RunReport) => report.entities.find((e) => e.name === 'employees')!;

describe('Delta files as the read-only side of a two-way flow (PostgreSQL on the other side)', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  let spec: SyncFlowSpec;
  const flowId = 'test/payroll-delta';
  const run = (mode: 'Full' | 'Incremental' | 'Resolve' = 'Full', resolutions?: Resolution[]) =>
    runSync({ flowId, spec, mode, sourceUrl: '', targetUrl, stateUrl, logger, ...(resolutions ? { resolutions } : {}) });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name, note, archived FROM staff ORDER BY employee_no')).map((r) => [r.employee_no, r.name, r.note, r.archived]);
  const db = (sql: string) => withClient(targetUrl, (c) => c.query(sql));

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_delta2w_dst'), freshDatabase('files_delta2w_state')]);
    await db(STAFF_SQL);
    spec = deltaSpec(dir);
  }, 60_000);

  it('the validator accepts Delta files with a deletion marker as the two-way side', () => {
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec } as SyncFlow;
    expect(validateSyncFlow(flow)).toEqual([]);
  });

  it('the first file: existing rows are linked by the match keys, a file-only record is created, the database-only one is new', async () => {
    await drop(dir, 'changes-1.csv', csv('1,Ann,hello,', '2,Bob,x,', '3,Cid,new hire,'));
    const report = await run();
    expect(report.status).toBe('Succeeded');
    expect(await staff()).toEqual([
      ['1', 'Ann', 'hello', false],
      ['2', 'Bob', 'x', false],
      ['3', 'Cid', 'new hire', false],
      ['9', 'Dora', 'db only', false],
    ]);
    expect(entity(report)).toMatchObject({ linked: 2, created: 1 });
    expect(entity(report).categories).toMatchObject({ synchronised: 3, new: 1 });
  }, 90_000);

  it('a record absent from the new files is unchanged on the file side, never gone: Full and Incremental archive nothing', async () => {
    await drop(dir, 'changes-2.csv', csv('1,Ann Smith,hello,'));
    const report = await run('Full');
    expect(report.status).toBe('Succeeded');
    // Read as a snapshot, changes-2.csv would leave records 2 and 3 gone and archive their rows.
    expect(await staff()).toEqual([
      ['1', 'Ann Smith', 'hello', false],
      ['2', 'Bob', 'x', false],
      ['3', 'Cid', 'new hire', false],
      ['9', 'Dora', 'db only', false],
    ]);
    expect(entity(report).twoWay).toMatchObject({ updatedTarget: 1, archivedTarget: 0, deletedTarget: 0, updatedSource: 0 });
    expect(entity(report).categories).toMatchObject({ synchronised: 3, new: 1 });
    for (const mode of ['Full', 'Incremental'] as const) {
      const again = await run(mode);
      expect(again.status).toBe('Succeeded');
      expect(entity(again).twoWay).toMatchObject({ updatedTarget: 0, archivedTarget: 0, deletedTarget: 0, createdInTarget: 0 });
      expect(entity(again).categories).toMatchObject({ synchronised: 3, new: 1 });
    }
    expect((await staff()).every((r) => r[3] === false)).toBe(true);
    const files = await withClient(stateUrl, (c) => sourceFiles(c, flowId));
    expect(files.map((f) => [f.name, f.status])).toEqual([
      ['changes-1.csv', 'imported'],
      ['changes-2.csv', 'imported'],
    ]);
  }, 120_000);

  it('a line marked deleted archives its partner (archiveInTarget), in an Incremental run; a deletion of an unknown record changes nothing', async () => {
    await drop(dir, 'changes-3.csv', csv('3,,,D', '77,,,D'));
    const report = await run('Incremental');
    expect(report.status).toBe('Succeeded');
    expect(await staff()).toEqual([
      ['1', 'Ann Smith', 'hello', false],
      ['2', 'Bob', 'x', false],
      ['3', 'Cid', 'new hire', true],
      ['9', 'Dora', 'db only', false],
    ]);
    expect(entity(report).twoWay).toMatchObject({ archivedTarget: 1, createdInTarget: 0 });
    expect(entity(report).categories).toMatchObject({ synchronised: 2, inactive: 1, new: 1 });
    // The next Full run agrees: the deleted record stays deleted on the file side, nothing else moves.
    const full = await run('Full');
    expect(entity(full).twoWay).toMatchObject({ archivedTarget: 0, updatedTarget: 0, createdInTarget: 0 });
    expect(entity(full).categories).toMatchObject({ synchronised: 2, inactive: 1, new: 1 });
  }, 120_000);

  it('a record changed in a new file and in the database since the last sync is a Manual conflict, resolved later with the file values', async () => {
    await db(`UPDATE staff SET note = 'db note' WHERE employee_no = '2'; UPDATE staff SET note = 'only db' WHERE employee_no = '1'`);
    await drop(dir, 'changes-4.csv', csv('2,Bob,file note,'));
    const report = await run('Full');
    expect(report.status).toBe('Succeeded');
    expect(entity(report).twoWay).toMatchObject({ conflicts: 1, updatedTarget: 0, updatedSource: 0 });
    expect(entity(report).categories).toMatchObject({ synchronised: 1, conflict: 1, inactive: 1, new: 1 });
    // A database-only change is left alone (the files are never written); the conflict waits.
    expect((await staff()).map((r) => r[2])).toEqual(['only db', 'db note', 'new hire', 'db only']);
    // Still a conflict in the next run, although changes-4.csv is no longer new.
    const again = await run('Full');
    expect(entity(again).categories).toMatchObject({ conflict: 1 });
    // `ferry pairs` shows the file's value (from the records the files left) against the database's.
    const conflicts = await listPairs({
      flowId,
      spec,
      connectors: { source: (await connectorFor(spec, 'source', '', { targets: {}, secrets: {}, flowId, stateUrl }))!, target: (await connectorFor(spec, 'target', targetUrl))! },
      stateUrl,
      category: 'conflict',
      limit: 10,
      logger,
    });
    expect(conflicts.map((p) => [p.sourceKey, p.differences])).toEqual([['2', [{ source: 'note', target: 'note', sourceValue: 'file note', targetValue: 'db note' }]]]);
    // Resolved with the file's value: read from the records the files left, no new file needed.
    const resolved = await run('Resolve', [{ entity: 'employees', sourceKey: '2', action: 'KeepSource' }]);
    expect(resolved.rejectedSamples).toEqual([]);
    expect((await staff()).find((r) => r[0] === '2')).toEqual(['2', 'Bob', 'file note', false]);
    const after = await run('Full');
    expect(entity(after).categories).toMatchObject({ synchronised: 2, inactive: 1, new: 1 });
    expect(entity(after).categories!.conflict ?? 0).toBe(0);
  }, 120_000);

  it('a record deleted in one file and sent again in a later one: its pair stays inactive, as a snapshot record that came back does', async () => {
    await drop(dir, 'changes-5.csv', csv('3,Cid,back again,'));
    const report = await run('Incremental');
    expect(entity(report).categories).toMatchObject({ inactive: 1 });
    // Reactivating an archived record is a person's decision (seed 003: ferry resolve --reactivate); until then it waits.
    expect((await staff()).find((r) => r[0] === '3')).toEqual(['3', 'Cid', 'new hire', true]);
    const files = await withClient(stateUrl, (c) => sourceFiles(c, flowId));
    expect(files.map((f) => f.status)).toEqual(['imported', 'imported', 'imported', 'imported', 'imported']);
  }, 90_000);

  it('a file that is not valid CSV fails the run and applies nothing, not even its good first lines; the next run leaves it failed', async () => {
    const before = await staff();
    await drop(dir, 'changes-6.csv', csv('1,Ann Broken,hello,', '2,"Bob,unclosed,'));
    await expect(run('Full')).rejects.toThrow(/changes-6\.csv .*cannot be imported: .*nothing from it was applied/);
    expect(await staff()).toEqual(before);
    const next = await run('Full');
    expect(next.status).toBe('Succeeded');
    expect(entity(next).twoWay).toMatchObject({ updatedTarget: 0, archivedTarget: 0 });
    expect(await staff()).toEqual(before);
    const files = await withClient(stateUrl, (c) => sourceFiles(c, flowId));
    expect(files.map((f) => [f.name, f.status])).toContainEqual(['changes-6.csv', 'failed']);
  }, 90_000);
});

describe('Delta files as a two-way side (MariaDB on the other side)', () => {
  it('a record absent from the new file is left as it is; a line marked deleted deletes its partner (deleteInTarget); the database-only row stays', async () => {
    const dir = await inbox();
    const { maria, stateUrl } = await mariaDbStaff('files_delta2w');
    const twoWay = deltaSpec(dir);
    const spec = { ...twoWay, target: { mysql: { secretRef: { name: 'dst' } } }, entities: [{ ...twoWay.entities[0]!, actions: ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'] }] } as SyncFlowSpec;
    const run = (mode: 'Full' | 'Incremental') => runSync({ flowId: 'test/payroll-delta-maria', spec, mode, sourceUrl: '', targetUrl: maria.url, stateUrl, logger });
    const staff = async () => (await maria.rows('SELECT employee_no, name FROM staff ORDER BY employee_no')).map((r) => [r.employee_no, r.name]);

    await drop(dir, 'changes-1.csv', csv('1,Ann,hello,', '2,Bob,x,', '3,Cid,y,'));
    expect((await run('Full')).status).toBe('Succeeded');
    await drop(dir, 'changes-2.csv', csv('3,,,D', '1,Ann Smith,hello,'));
    const second = await run('Full');
    expect(await staff()).toEqual([
      ['1', 'Ann Smith'],
      ['2', 'Bob'],
      ['9', 'Dora'],
    ]);
    expect(entity(second).twoWay).toMatchObject({ updatedTarget: 1, deletedTarget: 1, archivedTarget: 0 });
    expect(entity(second).categories).toMatchObject({ synchronised: 2, new: 1 });
    expect(entity(await run('Incremental')).twoWay).toMatchObject({ updatedTarget: 0, deletedTarget: 0 });
    expect(await staff()).toHaveLength(3);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});

describe('Delta files as a two-way side of a flow that was OneWay: its pairs name records only the earlier files hold', () => {
  it('the first two-way run is refused, naming the files to import again, until they are; nothing is archived', async () => {
    const dir = await inbox();
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_delta2w_hist_dst'), freshDatabase('files_delta2w_hist_state')]);
    await withClient(targetUrl, (c) => c.query(`${STAFF_SQL} DELETE FROM staff;`));
    const twoWay = deltaSpec(dir);
    const oneWay = { ...twoWay, direction: 'OneWay', entities: [{ ...twoWay.entities[0]!, actions: ['createInTarget', 'updateTarget'], conflictPolicy: undefined }] } as SyncFlowSpec;
    const run = (spec: SyncFlowSpec, reimport?: string[]) =>
      runSync({ flowId: 'test/payroll-history', spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger, files: { targets: {}, secrets: {}, ...(reimport ? { reimport } : {}) } });
    const archived = async () => (await sqlRows(targetUrl, 'SELECT employee_no FROM staff WHERE archived ORDER BY 1')).map((r) => r.employee_no);

    await drop(dir, 'changes-1.csv', csv('1,Ann,hello,', '2,Bob,x,'));
    expect((await run(oneWay)).status).toBe('Succeeded');
    await drop(dir, 'changes-2.csv', csv('2,Bob Moved,x,'));
    // Without the earlier file, record 1 would look deleted and its row be archived.
    await expect(run(twoWay)).rejects.toThrow(
      'entity employees: files were imported while this flow did not keep the records of its Delta files (it was OneWay, or the files were snapshots), so a record only they hold would look deleted or stale; import them again in this run (ferry run --reimport changes-1.csv) to rebuild the records',
    );
    expect(await archived()).toEqual([]);
    const rebuilt = await run(twoWay, ['changes-1.csv']);
    expect(rebuilt.status).toBe('Succeeded');
    expect(await archived()).toEqual([]);
    // changes-1.csv, imported again after changes-2.csv was listed, still comes before it.
    expect((await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY 1')).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann'],
      ['2', 'Bob Moved'],
    ]);
    // From now on the records are kept: a run without news archives nothing.
    expect(entity(await run(twoWay)).twoWay).toMatchObject({ archivedTarget: 0, updatedTarget: 0 });
    expect(await archived()).toEqual([]);
    // A OneWay run in between imports a file the records miss: the next two-way run names it.
    await drop(dir, 'changes-3.csv', csv('1,Ann Smith,hello,', '5,Eve,new,'));
    expect((await run(oneWay)).status).toBe('Succeeded');
    await expect(run(twoWay)).rejects.toThrow('(ferry run --reimport changes-3.csv) to rebuild the records');
    expect(entity(await run(twoWay, ['changes-3.csv'])).twoWay).toMatchObject({ archivedTarget: 0 });
    expect(await archived()).toEqual([]);
    expect((await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY 1')).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann Smith'],
      ['2', 'Bob Moved'],
      ['5', 'Eve'],
    ]);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});

describe('Delta files as a two-way side: SIGKILL during a run, then a re-run, applies every file once', () => {
  const scratch: string[] = [];
  let worlds = 0;

  async function world() {
    const n = ++worlds;
    const dir = await inbox();
    const manifests = await mkdtemp(join(tmpdir(), 'ferry-delta2w-manifests-'));
    scratch.push(dir, manifests);
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase(`files_delta2w_kill_dst${n}`), freshDatabase(`files_delta2w_kill_state${n}`)]);
    await withClient(targetUrl, (c) => c.query(STAFF_SQL + WRITES_SQL));
    const spec = deltaSpec(dir);
    await writeManifests(manifests, spec, targetUrl);
    const rows = () => sqlRows(targetUrl, 'SELECT employee_no, name, note, archived FROM staff ORDER BY employee_no');
    const writes = () => sqlRows(targetUrl, 'SELECT employee_no, name FROM staff_writes ORDER BY employee_no, n');
    const files = () => withClient(stateUrl, (c) => sourceFiles(c, 'default/payroll'));
    const rerun = (mode: 'Full' | 'Incremental') => runLocally({ files: [manifests], flow: 'payroll', mode, stateDb: stateUrl, logger });
    // Imported before the crash: eight people besides the two linked rows.
    await drop(dir, 'changes-1.csv', csv('1,Ann,hello,', '2,Bob,x,', ...Array.from({ length: 8 }, (_, i) => `${10 + i},Person ${10 + i},,`)));
    expect((await rerun('Full'))[0]!.status).toBe('Succeeded');
    // Two files pending at once: changes to most people, a deletion, new people, and one deleted and sent again.
    await drop(dir, 'changes-2.csv', csv('1,Ann Smith,hello,', ...Array.from({ length: 6 }, (_, i) => `${10 + i},Person ${10 + i} (moved),,`), '16,,,D', '20,Person 20,,', '21,Person 21,,'));
    await drop(dir, 'changes-3.csv', csv('21,,,D', '22,Person 22,,', '11,Person 11 (moved twice),,', '17,,,D', '17,Person 17,back,'));
    return { manifests, stateUrl, rows, writes, files, rerun };
  }

  let expectedRows: Record<string, unknown>[];
  let expectedWrites: Record<string, unknown>[];

  beforeAll(async () => {
    const clean = await world();
    const [report] = await clean.rerun('Full');
    expect(report!.status).toBe('Succeeded');
    expectedRows = await clean.rows();
    expectedWrites = await clean.writes();
    // Applied in file order: the last line of a key counts; a record created and deleted while pending never reaches the database.
    expect(expectedRows.filter((r) => Number(r.employee_no) >= 10).map((r) => [r.employee_no, r.name, r.archived])).toEqual([
      ['10', 'Person 10 (moved)', false],
      ['11', 'Person 11 (moved twice)', false],
      ['12', 'Person 12 (moved)', false],
      ['13', 'Person 13 (moved)', false],
      ['14', 'Person 14 (moved)', false],
      ['15', 'Person 15 (moved)', false],
      ['16', 'Person 16', true],
      ['17', 'Person 17', false],
      ['20', 'Person 20', false],
      ['22', 'Person 22', false],
    ]);
    expect(expectedRows.find((r) => r.employee_no === '17')).toMatchObject({ note: 'back' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  // Batches of 2: the third batch of the run is killed between the pairs' and the database's commit; files:finish-run comes after every write.
  for (const failpoint of ['two-way:pairs-committed:3', 'files:finish-run:1']) {
    it(`killed at ${failpoint}`, async () => {
      const w = await world();
      const killed = await ferryRun(w.manifests, w.stateUrl, 'Full', failpoint);
      expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
      expect((await w.files()).filter((f) => f.status === 'imported').map((f) => f.name)).toEqual(['changes-1.csv']);
      const [report] = await w.rerun('Full');
      expect(report!.status).toBe('Succeeded');
      expect(await w.rows()).toEqual(expectedRows);
      // Each write exactly once: nothing of the files applied twice, nothing skipped.
      expect(await w.writes()).toEqual(expectedWrites);
      expect((await w.files()).map((f) => [f.name, f.status])).toEqual([
        ['changes-1.csv', 'imported'],
        ['changes-2.csv', 'imported'],
        ['changes-3.csv', 'imported'],
      ]);
      const [quiet] = await w.rerun('Incremental');
      expect(entity(quiet!).twoWay).toMatchObject({ updatedTarget: 0, createdInTarget: 0, archivedTarget: 0 });
      expect(await w.writes()).toEqual(expectedWrites);
    }, 120_000);
  }
});

describe('a dry run of Delta files as the two-way side', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  let spec: SyncFlowSpec;
  const flowId = 'test/payroll-delta-dry';
  const run = (dryRun: boolean) => runSync({ flowId, spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger, dryRun });
  const staff = async () => (await sqlRows(targetUrl, 'SELECT employee_no, name, note, archived FROM staff ORDER BY employee_no')).map((r) => [r.employee_no, r.name, r.note, r.archived]);
  /** The records kept of the file side, the mark of the files they hold included. */
  const records = () => sqlRows(stateUrl, `SELECT key, position, row FROM ferry.file_side_records WHERE flow = $1 ORDER BY key`, [flowId]);

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_delta2w_dry_dst'), freshDatabase('files_delta2w_dry_state')]);
    await withClient(targetUrl, (c) => c.query(STAFF_SQL));
    spec = deltaSpec(dir);
  }, 60_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('applies its lines to a copy of the records: the records and their mark stay as they were, and the real run after it applies the same file', async () => {
    await drop(dir, 'changes-1.csv', csv('1,Ann,hello,', '2,Bob,x,'));
    expect((await run(false)).status).toBe('Succeeded');
    const before = { records: await records(), staff: await staff() };
    expect(before.records.map((r) => r.key)).toEqual(['', '1', '2']);

    await drop(dir, 'changes-2.csv', csv('2,Bob Jones,x,', '3,Cid,new hire,'));
    const dry = await run(true);
    expect(dry.status).toBe('Succeeded');
    expect(dry.dryRun).toBe(true);
    // The dry run saw the new file's lines (its plan has them), through its copy of the records.
    expect(entity(dry).twoWay).toMatchObject({ updatedTarget: 1, createdInTarget: 1 });
    expect({ records: await records(), staff: await staff() }).toEqual(before);

    const real = await run(false);
    expect(real.status).toBe('Succeeded');
    expect(entity(real).twoWay).toMatchObject({ updatedTarget: 1, createdInTarget: 1 });
    expect(await staff()).toEqual([
      ['1', 'Ann', 'hello', false],
      ['2', 'Bob Jones', 'x', false],
      ['3', 'Cid', 'new hire', false],
      ['9', 'Dora', 'db only', false],
    ]);
    expect((await records()).map((r) => r.key)).toEqual(['', '1', '2', '3']);
  }, 120_000);
});
