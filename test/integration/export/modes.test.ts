import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installChangeLog } from '../../../src/connectors/postgres/change-log.js';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, MEMBERS_ENTITY, receivedFiles, startDestinations, type Destinations } from './fixtures.js';

const T0 = '2026-03-01 09:00:00+00';

/** Data rows of a CSV export (header dropped), as arrays of fields (the fixtures have no quoted commas). */
function csvRows(content: Buffer): string[][] {
  return content.toString('utf8').split('\r\n').slice(1, -1).map((line) => line.split(','));
}

describe('export modes across two consecutive runs', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
  });
  afterAll(async () => {
    await servers?.close();
  });

  const context = () => ({ targets: servers.targets, secrets: servers.secrets });
  const fileOf = (report: { export: { files: { name: string }[] } }) => receivedFiles(servers.sftpRoot).get(report.export.files[0].name)!;

  it('Changes exports only rows changed since the last export, with ties on updated_at split across runs safely', async () => {
    await withClient(urls.sourceUrl, (c) =>
      c.query(
        `INSERT INTO members VALUES (1, 'Ann', 'a@x.org', 1, $1), (2, 'Bob', 'b@x.org', 2, $1), (3, 'Cy', 'c@x.org', 3, $1)`,
        [T0],
      ),
    );
    const spec = exportFlow({ mode: 'Changes', fileNameTemplate: 'changes_{entity}_{date}{time}_{seq}', timeZone: 'Europe/Zurich' });
    const first = await exportOnce(urls, spec, context(), { flowId: 'default/changes' });
    expect(first.failure).toBeUndefined();
    expect(csvRows(fileOf(first.report)).map((r) => r[0])).toEqual(['1', '2', '3']);

    // A row with the same updated_at as the watermark but a higher key, one updated row, and an untouched one.
    await withClient(urls.sourceUrl, async (c) => {
      await c.query(`INSERT INTO members VALUES (4, 'Di', 'd@x.org', 4, $1)`, [T0]);
      await c.query(`UPDATE members SET points = 20, updated_at = $1::timestamptz + interval '1 hour' WHERE id = 2`, [T0]);
    });
    const second = await exportOnce(urls, spec, context(), { flowId: 'default/changes' });
    expect(second.failure).toBeUndefined();
    expect(csvRows(fileOf(second.report))).toEqual([
      ['4', 'Di', 'd@x.org', '4'],
      ['2', 'Bob', 'b@x.org', '20'],
    ]);
    expect(second.report.watermarksAfter.members.key).toEqual(['2']);
    // File names carry the date and time in the flow's time zone (UTC+1 in March).
    const started = new Date(second.report.startedAt);
    const zurich = new Date(started.getTime() + 3600_000).toISOString();
    expect(second.report.export.files[0].name).toBe(`changes_members_${zurich.slice(0, 10).replace(/-/g, '')}${zurich.slice(11, 19).replace(/:/g, '')}_001.csv`);

    const third = await exportOnce(urls, spec, context(), { flowId: 'default/changes' });
    expect(third.report.export.files[0].rows).toBe(0);
    expect(fileOf(third.report).toString()).toBe('member_id,name,email,points\r\n');
  });

  it('Snapshot exports every row each time', async () => {
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO products VALUES ('A-1', 'Mug', 4.50), ('B-2', 'Cap', 12.00)`));
    const entity = {
      name: 'products',
      source: { table: 'products', keys: ['sku'] },
      target: { table: 'products', keys: ['sku'] },
      fields: [
        { source: 'sku', target: 'sku' },
        { source: 'title', target: 'title', transform: 'Upper' },
        { source: 'price', target: 'price' },
      ],
    };
    const spec = exportFlow({ mode: 'Snapshot', compression: 'Gzip', fileNameTemplate: 'snap_{entity}_{seq}' }, [entity] as never);
    const first = await exportOnce(urls, spec, context(), { flowId: 'default/snapshot' });
    expect(csvRows(gunzipSync(fileOf(first.report)))).toEqual([
      ['A-1', 'MUG', '4.50'],
      ['B-2', 'CAP', '12.00'],
    ]);
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO products VALUES ('C-3', 'Pen', 1.00)`));
    const second = await exportOnce(urls, spec, context(), { flowId: 'default/snapshot' });
    expect(csvRows(gunzipSync(fileOf(second.report))).map((r) => r[0])).toEqual(['A-1', 'B-2', 'C-3']);
  });

  it('Events exports every change event, not just the latest state, exactly once', async () => {
    await withClient(urls.sourceUrl, (c) => installChangeLog(c, [{ schema: 'public', table: 'cases' }]));
    const entity = {
      name: 'case_events',
      source: { table: 'cases', keys: ['id'] },
      target: { table: 'case_events', keys: ['case_id'] },
      fields: [
        { source: 'id', target: 'case_id' },
        { source: 'status', target: 'status' },
      ],
    };
    const spec = exportFlow({ mode: 'Events', format: 'JsonLines', fileNameTemplate: 'events_{seq}' }, [entity] as never);
    await withClient(urls.sourceUrl, async (c) => {
      await c.query(`INSERT INTO cases (id, member_id, status) VALUES (100, 1, 'Open')`);
      await c.query(`UPDATE cases SET status = 'Escalated' WHERE id = 100`);
      await c.query(`UPDATE cases SET status = 'Closed' WHERE id = 100`);
    });
    const events = (report: { export: { files: { name: string }[] } }) =>
      fileOf(report)
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .map((e) => [e.operation, e.case_id, e.status]);
    const first = await exportOnce(urls, spec, context(), { flowId: 'default/events' });
    expect(first.failure).toBeUndefined();
    expect(events(first.report)).toEqual([
      ['INSERT', 100, 'Open'],
      ['UPDATE', 100, 'Escalated'],
      ['UPDATE', 100, 'Closed'],
    ]);

    await withClient(urls.sourceUrl, async (c) => {
      await c.query('BEGIN');
      await c.query(`INSERT INTO cases (id, member_id, status) VALUES (101, 2, 'Open')`);
      await c.query(`DELETE FROM cases WHERE id = 100`);
      await c.query('COMMIT');
    });
    const second = await exportOnce(urls, spec, context(), { flowId: 'default/events' });
    expect(events(second.report)).toEqual([
      ['INSERT', 101, 'Open'],
      ['DELETE', 100, 'Closed'],
    ]);
    const third = await exportOnce(urls, spec, context(), { flowId: 'default/events' });
    expect(third.report.export.files[0].rows).toBe(0);

    // Source conditions and transforms apply to events as to rows.
    const filtered = exportFlow(
      { mode: 'Events', format: 'JsonLines', fileNameTemplate: 'open_events_{seq}' },
      [{ ...entity, source: { ...entity.source, conditions: [{ field: 'status', values: ['Open'] }] }, fields: [...entity.fields, { source: 'status', target: 'status_upper', transform: 'Upper' }] }] as never,
    );
    await exportOnce(urls, filtered, context(), { flowId: 'default/events-open' });
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO cases (id, member_id, status) VALUES (102, 3, 'Open'), (103, 3, 'Closed')`));
    const open = await exportOnce(urls, filtered, context(), { flowId: 'default/events-open' });
    const lines = fileOf(open.report).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.operation, e.case_id, e.status_upper])).toEqual([['INSERT', 102, 'OPEN']]);
    expect(typeof lines[0].event_id).toBe('number');
  });

  it('an event written by a transaction still open at export time comes in the next export, and does not hold back events committed meanwhile', async () => {
    const spec = exportFlow(
      { mode: 'Events', format: 'Csv', fileNameTemplate: 'late_{seq}' },
      [{ name: 'case_events', source: { table: 'cases', keys: ['id'] }, target: { table: 'x', keys: ['id'] }, fields: [{ source: 'id', target: 'case_id' }] }] as never,
    );
    await exportOnce(urls, spec, context(), { flowId: 'default/late' });
    await withClient(urls.sourceUrl, async (open) => {
      await open.query('BEGIN');
      await open.query(`INSERT INTO cases (id, member_id, status) VALUES (200, 1, 'Open')`);
      await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO cases (id, member_id, status) VALUES (201, 1, 'Open')`));
      const during = await exportOnce(urls, spec, context(), { flowId: 'default/late' });
      // 201 committed although an older transaction (200's) is still open: it is final, so it goes now.
      expect(csvRows(fileOf(during.report)).map((r) => r[3])).toEqual(['201']);
      await open.query('COMMIT');
    });
    const after = await exportOnce(urls, spec, context(), { flowId: 'default/late' });
    expect(csvRows(fileOf(after.report)).map((r) => r[3])).toEqual(['200']);
    const again = await exportOnce(urls, spec, context(), { flowId: 'default/late' });
    expect(again.report.export.files[0].rows).toBe(0);
  });

  it('a watermark written as a bare transaction id (before snapshots) still reads on from there', async () => {
    const { previousSnapshot } = await import('../../../src/connectors/postgres/export-query.js');
    expect(previousSnapshot(undefined)).toBeUndefined();
    expect(previousSnapshot('0')).toBeUndefined();
    expect(previousSnapshot('812')).toBe('812:812:');
    expect(previousSnapshot('812:815:813')).toBe('812:815:813');
  });

  it('a failure while creating files keeps the watermark and archives nothing (creation failed, nothing sent)', async () => {
    const broken = { name: 'broken', source: { table: 'no_such_table', keys: ['id'], updatedAt: 'updated_at' }, target: { table: 'x', keys: ['id'] }, fields: [{ source: 'id', target: 'id' }] };
    const spec = exportFlow({ mode: 'Changes', fileNameTemplate: 'crash_{entity}' }, [MEMBERS_ENTITY, broken] as never);
    const { report, failure } = await exportOnce(urls, spec, context(), { flowId: 'default/crash' });
    expect(String(failure)).toMatch(/no_such_table/);
    expect(report.export).toMatchObject({ result: 'CreationFailed', creationStatus: 'Failed', transferStatus: 'NotStarted', files: [], transfers: [] });
    const state = await withClient(urls.stateUrl, async (c) => ({
      watermarks: (await c.query(`SELECT count(*)::int AS n FROM ferry.watermarks WHERE flow = 'default/crash'`)).rows[0].n,
      files: (await c.query(`SELECT count(*)::int AS n FROM ferry.export_files WHERE run_id = $1`, [report.runId])).rows[0].n,
      run: (await c.query(`SELECT creation_status, transfer_status FROM ferry.export_runs WHERE run_id = $1`, [report.runId])).rows[0],
    }));
    expect(state).toEqual({ watermarks: 0, files: 0, run: { creation_status: 'Failed', transfer_status: 'NotStarted' } });
    expect([...receivedFiles(servers.sftpRoot).keys()].filter((n) => n.startsWith('crash_'))).toEqual([]);
  });
});
