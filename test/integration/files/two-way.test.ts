import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Entity } from '../../../src/api/entity.js';
import type { SyncFlow, SyncFlowSpec } from '../../../src/api/syncflow.js';
import type { Resolution } from '../../../src/api/syncjob.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import { connectorFor } from '../../../src/connectors/index.js';
import { runSync } from '../../../src/connectors/run.js';
import { listPairs } from '../../../src/engine/two-way/inspect.js';
import { listNewRecords } from '../../../src/cli/unpaired.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import type { RunReport } from '../../../src/engine/report.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, inbox, mariaDbStaff, twoWayEmployees as employees } from './files-source.js';

const logger = pino({ level: 'silent' });


function twoWayFilesSpec(dir: string, target: SyncFlowSpec['target'], actions: Entity['actions']): SyncFlowSpec {
  return {
    direction: 'TwoWay',
    source: { files: { directory: dir, settleSeconds: 0, afterImport: 'Leave' } },
    target,
    batchSize: 2,
    entities: [employees(actions)],
  } as SyncFlowSpec;
}

const csv = (...rows: string[]) => Buffer.from(['no,name,note', ...rows, ''].join('\n'));
const entity = (report: RunReport) => report.entities.find((e) => e.name === 'employees')!;

/** Name and SHA-256 of every file under the inbox: the files side must never change. */
async function inboxDigest(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })).sort();
  return Promise.all(names.map(async (n) => `${n} ${createHash('sha256').update(await readFile(join(dir, n)).catch(() => Buffer.alloc(0))).digest('hex')}`));
}

describe('files source as one side of a two-way flow (PostgreSQL on the other side)', () => {
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  let spec: SyncFlowSpec;
  const run = (mode: 'Full' | 'Incremental' | 'Resolve' = 'Full', resolutions?: Resolution[]) =>
    runSync({ flowId: 'test/payroll-two-way', spec, mode, sourceUrl: '', targetUrl, stateUrl, logger, ...(resolutions ? { resolutions } : {}) });
  const staff = () => sqlRows(targetUrl, 'SELECT id::text, employee_no, name, note, archived FROM staff ORDER BY employee_no');
  const db = (sql: string) => withClient(targetUrl, (c) => c.query(sql));

  beforeAll(async () => {
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files2w_dst'), freshDatabase('files2w_state')]);
    await db(`
      CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text,
        archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN NEW.changed_at := clock_timestamp(); RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER staff_touch BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION touch();
      INSERT INTO staff (employee_no, name, note) VALUES ('1', 'Ann Old', 'hello'), ('2', 'Bob', 'x'), ('9', 'Dora', 'db only');`);
    spec = twoWayFilesSpec(dir, { postgres: { secretRef: { name: 'dst' } } }, ['link', 'createInTarget', 'updateTarget', 'archiveInTarget']);
  }, 60_000);

  it('the validator accepts the flow (its actions and policies never write to the files)', () => {
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec } as SyncFlow;
    expect(validateSyncFlow(flow)).toEqual([]);
  });

  it('links existing rows by the match keys, creates what only the file has, and shows the database-only record as new', async () => {
    await drop(dir, 'employees-20261101.csv', csv('1,Ann,hello', '2,Bob,x', '3,Cid,new hire'));
    const before = await staff();
    const report = await run();
    expect(report.status).toBe('Succeeded');
    expect(await staff()).toEqual([
      { id: before[0]!.id, employee_no: '1', name: 'Ann', note: 'hello', archived: false },
      { id: before[1]!.id, employee_no: '2', name: 'Bob', note: 'x', archived: false },
      { id: expect.any(String), employee_no: '3', name: 'Cid', note: 'new hire', archived: false },
      { id: before[2]!.id, employee_no: '9', name: 'Dora', note: 'db only', archived: false },
    ]);
    expect(entity(report)).toMatchObject({ linked: 2, created: 1 });
    expect(entity(report).twoWay).toMatchObject({ createdInTarget: 1, createdInSource: 0, updatedSource: 0, unpaired: 1 });
    expect(entity(report).categories).toMatchObject({ synchronised: 3, new: 1 });
  }, 90_000);

  it('leaves database-side changes alone: a database-only record stays new, a paired one keeps its value; the files never change', async () => {
    const files = await inboxDigest(dir);
    await db(`UPDATE staff SET name = 'Dora B' WHERE employee_no = '9'; UPDATE staff SET note = 'db note' WHERE employee_no = '2'`);
    for (const mode of ['Full', 'Incremental'] as const) {
      const report = await run(mode);
      expect(report.status).toBe('Succeeded');
      expect(entity(report).twoWay).toMatchObject({ updatedSource: 0, createdInSource: 0, archivedSource: 0, deletedSource: 0 });
      expect(entity(report).categories).toMatchObject({ synchronised: 3, new: 1 });
    }
    expect((await staff()).map((r) => [r.employee_no, r.name, r.note])).toEqual([
      ['1', 'Ann', 'hello'],
      ['2', 'Bob', 'db note'],
      ['3', 'Cid', 'new hire'],
      ['9', 'Dora B', 'db only'],
    ]);
    expect(await inboxDigest(dir)).toEqual(files);
    // `ferry pairs --category new` lists the database-only record.
    const dora = (await staff()).find((r) => r.employee_no === '9')!.id;
    const page = await listNewRecords(stateUrl, 'test/payroll-two-way', spec, { limit: 10 });
    expect(page.records.map((r) => [r.side, r.key, r.reason])).toEqual([['target', dora, 'unmatched']]);
  }, 90_000);

  it('a new snapshot: a file update goes to the database, a record gone from the file is archived (archiveInTarget), a note both changed is a Manual conflict', async () => {
    await drop(dir, 'employees-20261102.csv', csv('1,Ann Smith,hello', '2,Bob,file note', '4,Eve,joined'));
    const report = await run();
    expect(report.status).toBe('Succeeded');
    expect((await staff()).map((r) => [r.employee_no, r.name, r.note, r.archived])).toEqual([
      ['1', 'Ann Smith', 'hello', false],
      ['2', 'Bob', 'db note', false],
      ['3', 'Cid', 'new hire', true],
      ['4', 'Eve', 'joined', false],
      ['9', 'Dora B', 'db only', false],
    ]);
    expect(entity(report).twoWay).toMatchObject({ updatedTarget: 1, createdInTarget: 1, archivedTarget: 1, conflicts: 1, updatedSource: 0 });
    expect(entity(report).categories).toMatchObject({ synchronised: 2, conflict: 1, inactive: 1, new: 1 });
    // The conflict stays one until resolved; `ferry pairs` shows both values.
    expect(entity(await run()).categories).toMatchObject({ conflict: 1 });
    const conflicts = await listPairs({
      flowId: 'test/payroll-two-way',
      spec,
      connectors: { source: (await connectorFor(spec, 'source', '', { targets: {}, secrets: {}, flowId: 'test/payroll-two-way', stateUrl }))!, target: (await connectorFor(spec, 'target', targetUrl))! },
      stateUrl,
      category: 'conflict',
      limit: 10,
      logger,
    });
    expect(conflicts.map((p) => [p.sourceKey, p.differences])).toEqual([['2', [{ source: 'note', target: 'note', sourceValue: 'file note', targetValue: 'db note' }]]]);
  }, 120_000);

  it('Resolve: keeping the database value is refused (the files are read-only), keeping the file value writes it to the database', async () => {
    const refused = await run('Resolve', [{ entity: 'employees', sourceKey: '2', action: 'KeepTarget' }]);
    expect(refused.rejectedSamples.map((r) => r.reason)).toEqual([
      "KeepTarget: the source is read-only: its values cannot be replaced (keep the source's, or Unlink or Deactivate the pair)",
    ]);
    expect((await staff()).find((r) => r.employee_no === '2')!.note).toBe('db note');
    const resolved = await run('Resolve', [{ entity: 'employees', sourceKey: '2', action: 'KeepSource' }]);
    expect(resolved.rejectedSamples).toEqual([]);
    expect((await staff()).find((r) => r.employee_no === '2')!.note).toBe('file note');
    const categories = entity(await run()).categories!;
    expect(categories).toMatchObject({ synchronised: 3, inactive: 1, new: 1 });
    expect(categories.conflict ?? 0).toBe(0);
  }, 90_000);

  it('Incremental reads the next snapshot only, and sends its changes to the database', async () => {
    await drop(dir, 'employees-20261103.csv', csv('1,Ann Smith,promoted', '2,Bob,file note', '4,Eve,joined'));
    const report = await run('Incremental');
    expect(report.status).toBe('Succeeded');
    expect((await staff()).find((r) => r.employee_no === '1')!.note).toBe('promoted');
    expect(entity(report).twoWay).toMatchObject({ updatedTarget: 1, updatedSource: 0 });
    expect(entity(await run('Incremental')).read).toBe(0);
  }, 90_000);
});

describe('files source as one side of a two-way flow: the engine never writes to it, whatever the spec says', () => {
  it('a spec that bypasses the validator (createInSource, updateNewerWins, deleteInSource, TargetWins) still writes nothing to the files', async () => {
    const dir = await inbox();
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files2w_raw_dst'), freshDatabase('files2w_raw_state')]);
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO staff (employee_no, name, note) VALUES ('1', 'Ann (db)', 'db'), ('9', 'Dora', 'db only');`),
    );
    const spec = twoWayFilesSpec(dir, { postgres: { secretRef: { name: 'dst' } } }, ['link', 'createInSource', 'updateNewerWins', 'deleteInSource', 'createInTarget']);
    spec.entities[0]!.conflictPolicy = 'TargetWins';
    spec.entities[0]!.fields = spec.entities[0]!.fields.map((f) => ({ ...f, conflictPolicy: 'TargetWins' as const }));
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'raw' }, spec } as SyncFlow;
    expect(validateSyncFlow(flow).map((e) => e.path)).toEqual([
      'spec.entities[0].actions[1]',
      'spec.entities[0].actions[2]',
      'spec.entities[0].actions[3]',
      'spec.entities[0].conflictPolicy',
      'spec.entities[0].fields[0].conflictPolicy',
      'spec.entities[0].fields[1].conflictPolicy',
      'spec.entities[0].fields[2].conflictPolicy',
    ]);
    const run = () => runSync({ flowId: 'test/raw-two-way', spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger });
    await drop(dir, 'employees-20261101.csv', csv('1,Ann,file', '2,Bob,x'));
    const files = await inboxDigest(dir);
    const first = await run();
    expect(first.status).toBe('Succeeded');
    expect(entity(first).twoWay).toMatchObject({ createdInSource: 0, updatedSource: 0, deletedSource: 0, archivedSource: 0, createdInTarget: 1, unpaired: 1 });
    // A record gone from the database: deleteInSource is not applied to the files; the pair shows it deleted.
    await withClient(targetUrl, (c) => c.query(`DELETE FROM staff WHERE employee_no = '2'`));
    const second = await run();
    expect(second.status).toBe('Succeeded');
    expect(entity(second).twoWay).toMatchObject({ deletedSource: 0, archivedSource: 0 });
    expect(entity(second).categories).toMatchObject({ deleted: 1, new: 1 });
    expect(await inboxDigest(dir)).toEqual(files);
  }, 90_000);
});

describe('files source as one side of a two-way flow: a line with a bad value', () => {
  it('is rejected with file, line and reason, and its record is still there (its partner is not archived)', async () => {
    const dir = await inbox();
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files2w_bad_dst'), freshDatabase('files2w_bad_state')]);
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT now())`),
    );
    const spec = twoWayFilesSpec(dir, { postgres: { secretRef: { name: 'dst' } } }, ['link', 'createInTarget', 'updateTarget', 'archiveInTarget']);
    spec.entities[0]!.source.file!.columns = [{ name: 'note', type: 'Date' }];
    const run = () => runSync({ flowId: 'test/bad-line-two-way', spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger });
    await drop(dir, 'employees-20261101.csv', csv('1,Ann,2026-01-01', '2,Bob,2026-01-02'));
    expect((await run()).status).toBe('Succeeded');
    await drop(dir, 'employees-20261102.csv', csv('1,Ann Smith,not a date', '2,Bob B,2026-01-02'));
    const report = await run();
    expect(report.rejectedSamples.map((r) => r.reason)).toEqual([expect.stringMatching(/employees-20261102\.csv line 2: "not a date" is not a date/)]);
    expect(await sqlRows(targetUrl, 'SELECT employee_no, name, note, archived FROM staff ORDER BY employee_no')).toEqual([
      { employee_no: '1', name: 'Ann', note: '2026-01-01', archived: false },
      { employee_no: '2', name: 'Bob B', note: '2026-01-02', archived: false },
    ]);
    expect(entity(report).twoWay).toMatchObject({ archivedTarget: 0, updatedTarget: 1 });
  }, 90_000);
});

describe('files source as one side of a two-way flow (MariaDB on the other side)', () => {
  it('links by match keys, updates from the file, deletes what left the snapshot (deleteInTarget), leaves the database-only row', async () => {
    const dir = await inbox();
    const { maria, stateUrl } = await mariaDbStaff('files2w');
    const spec = twoWayFilesSpec(dir, { mysql: { secretRef: { name: 'dst' } } }, ['link', 'createInTarget', 'updateTarget', 'deleteInTarget']);
    const run = () => runSync({ flowId: 'test/payroll-two-way-maria', spec, mode: 'Full', sourceUrl: '', targetUrl: maria.url, stateUrl, logger });
    const staff = () => maria.rows('SELECT id, employee_no, name, note FROM staff ORDER BY employee_no');

    await drop(dir, 'employees-20261101.csv', csv('1,Ann,hello', '2,Bob,x'));
    const idOfAnn = (await staff())[0]!.id;
    const first = await run();
    expect(first.status).toBe('Succeeded');
    expect(await staff()).toEqual([
      { id: idOfAnn, employee_no: '1', name: 'Ann', note: 'hello' },
      { id: expect.anything(), employee_no: '2', name: 'Bob', note: 'x' },
      { id: expect.anything(), employee_no: '9', name: 'Dora', note: 'db only' },
    ]);
    expect(entity(first).categories).toMatchObject({ synchronised: 2, new: 1 });

    await drop(dir, 'employees-20261102.csv', csv('1,Ann Smith,hello'));
    const second = await run();
    expect(second.status).toBe('Succeeded');
    expect((await staff()).map((r) => [r.employee_no, r.name])).toEqual([
      ['1', 'Ann Smith'],
      ['9', 'Dora'],
    ]);
    expect(entity(second).twoWay).toMatchObject({ updatedTarget: 1, deletedTarget: 1, deletedSource: 0, updatedSource: 0 });
    expect(entity(second).categories).toMatchObject({ synchronised: 1, new: 1 });
  }, 120_000);
});

describe('Record runs on a files source: the record from the newest snapshot file', () => {
  it('syncs one record from the newest file without recording the file imported (one-way and two-way); a Delta entity is refused', async () => {
    const dir = await inbox();
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_rec_dst'), freshDatabase('files_rec_state')]);
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT now())`),
    );
    const twoWay = twoWayFilesSpec(dir, { postgres: { secretRef: { name: 'dst' } } }, ['link', 'createInTarget', 'updateTarget']);
    const oneWay = { ...twoWay, direction: 'OneWay' } as SyncFlowSpec;
    const run = (spec: SyncFlowSpec, flowId: string, mode: 'Record' | 'Incremental', key = '2') =>
      runSync({ flowId, spec, mode, sourceUrl: '', targetUrl, stateUrl, logger, ...(mode === 'Record' ? { record: { entity: 'employees', key } } : {}) });
    const staff = () => sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no');
    const statuses = (flowId: string) => withClient(stateUrl, async (c) => (await sourceFiles(c, flowId)).map((f) => [f.name, f.status]));

    await drop(dir, 'employees-20261101.csv', csv('1,Ann,a', '2,Bob,b'));
    const record = await run(oneWay, 'test/rec-one', 'Record');
    expect(record.status).toBe('Succeeded');
    expect(await staff()).toEqual([{ employee_no: '2', name: 'Bob' }]);
    expect((await statuses('test/rec-one')).filter(([, status]) => status === 'imported')).toEqual([]);
    // The file is still new to the next Incremental run, which imports all of it.
    expect((await run(oneWay, 'test/rec-one', 'Incremental')).status).toBe('Succeeded');
    expect(await staff()).toEqual([{ employee_no: '1', name: 'Ann' }, { employee_no: '2', name: 'Bob' }]);
    expect(await statuses('test/rec-one')).toEqual([['employees-20261101.csv', 'imported']]);

    // Two-way: the paired record takes the newest file's values.
    expect((await run(twoWay, 'test/rec-two', 'Incremental')).status).toBe('Succeeded');
    await drop(dir, 'employees-20261102.csv', csv('1,Ann Smith,a', '2,Bob Jones,b'));
    const paired = await run(twoWay, 'test/rec-two', 'Record', '1');
    expect(paired.status).toBe('Succeeded');
    expect(await staff()).toEqual([{ employee_no: '1', name: 'Ann Smith' }, { employee_no: '2', name: 'Bob' }]);

    const delta = { ...oneWay, entities: [{ ...oneWay.entities[0]!, source: { ...oneWay.entities[0]!.source, file: { pattern: 'employees-*.csv', contents: 'Delta' as const } } }] };
    const refused = await run(delta, 'test/rec-delta', 'Record').catch((error: Error) => error);
    expect(String(refused instanceof Error ? refused.message : refused.error)).toMatch(
      /entity employees: a Record run reads one record from the newest snapshot file, but its files are Delta files \(changes, not records\); run Incremental to apply them/,
    );
  }, 120_000);
});
