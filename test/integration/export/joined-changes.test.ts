import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import type { SyncFlow, SyncFlowSpec } from '../../../src/api/syncflow.js';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, receivedFiles, startDestinations, type Destinations } from './fixtures.js';

const T0 = '2026-03-01 09:00:00+00';

/** Seed 004: members with their points transactions, a member exported when it or its transactions changed. */
const MEMBERS_WITH_POINTS = `
SELECT m.id AS member_id, m.name,
       coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'points', p.points) ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '[]') AS transactions,
       greatest(m.updated_at, max(p.created_at)) AS changed_at
FROM members m LEFT JOIN points_transactions p ON p.member_id = m.id
GROUP BY m.id`;

const CHANGES = { keys: ['member_id'], cursor: 'changed_at' };

interface Line {
  member_id: number;
  name: string;
  transactions: { id: number; points: number }[];
}

function lines(content: Buffer): Line[] {
  return content.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

function flowOf(spec: SyncFlowSpec): SyncFlow {
  return { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'joined', namespace: 'default' }, spec } as SyncFlow;
}

describe('Changes exports of a query joining related rows (seed 004)', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) =>
      c.query(`CREATE TABLE points_transactions (id bigint PRIMARY KEY, member_id bigint NOT NULL REFERENCES members, points integer NOT NULL, created_at timestamptz NOT NULL)`),
    );
  });
  afterAll(async () => {
    await servers?.close();
  });

  const context = () => ({ targets: servers.targets, secrets: servers.secrets });
  const fileOf = (report: { export: { files: { name: string }[] } }) => receivedFiles(servers.sftpRoot).get(report.export.files[0].name)!;
  const spec = (query: string, template: string) =>
    exportFlow({ mode: 'Changes', format: 'JsonLines', query, changes: CHANGES, fileNameTemplate: template }, []);

  it('a new points transaction exports its member once with its transactions; ties on the cursor split across runs safely', async () => {
    await withClient(urls.sourceUrl, async (c) => {
      await c.query(`INSERT INTO members VALUES (1, 'Ann', 'a@x.org', 0, $1), (2, 'Bob', 'b@x.org', 0, $1), (3, 'Cy', 'c@x.org', 0, $1)`, [T0]);
      await c.query(`INSERT INTO points_transactions VALUES (10, 1, 5, $1)`, [T0]);
    });
    const flow = spec(MEMBERS_WITH_POINTS, 'joined_{seq}');
    const first = await exportOnce(urls, flow, context(), { flowId: 'default/joined' });
    expect(first.failure).toBeUndefined();
    expect(lines(fileOf(first.report))).toEqual([
      { member_id: 1, name: 'Ann', transactions: [{ id: 10, points: 5 }], changed_at: expect.any(String) },
      { member_id: 2, name: 'Bob', transactions: [], changed_at: expect.any(String) },
      { member_id: 3, name: 'Cy', transactions: [], changed_at: expect.any(String) },
    ]);
    expect(first.report.watermarksAfter.query.key).toEqual(['3']);

    // Member rows untouched: one new transaction for Bob, two for Cy (Cy is still one record).
    await withClient(urls.sourceUrl, (c) =>
      c.query(
        `INSERT INTO points_transactions VALUES (11, 2, 7, $1::timestamptz + interval '1 hour'), (12, 3, 1, $1::timestamptz + interval '2 hours'), (13, 3, 2, $1::timestamptz + interval '2 hours')`,
        [T0],
      ),
    );
    const second = await exportOnce(urls, flow, context(), { flowId: 'default/joined' });
    expect(second.failure).toBeUndefined();
    expect(lines(fileOf(second.report)).map(({ member_id, transactions }) => ({ member_id, transactions }))).toEqual([
      { member_id: 2, transactions: [{ id: 11, points: 7 }] },
      { member_id: 3, transactions: [{ id: 12, points: 1 }, { id: 13, points: 2 }] },
    ]);
    expect(second.report.watermarksAfter.query.key).toEqual(['3']);

    // A member whose cursor equals the watermark's with a higher key comes in the next run, once.
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO members VALUES (5, 'Eve', 'e@x.org', 0, $1::timestamptz + interval '2 hours')`, [T0]));
    const third = await exportOnce(urls, flow, context(), { flowId: 'default/joined' });
    expect(lines(fileOf(third.report)).map((l) => l.member_id)).toEqual([5]);
    const fourth = await exportOnce(urls, flow, context(), { flowId: 'default/joined' });
    expect(fourth.failure).toBeUndefined();
    expect(fourth.report.export.files[0].rows).toBe(0);
  });

  it('a hard-deleted related row moves no cursor, so it exports nothing; a delete trigger that touches the member makes it a change', async () => {
    const flow = spec(MEMBERS_WITH_POINTS, 'deletes_{seq}');
    const run = async () => {
      const result = await exportOnce(urls, flow, context(), { flowId: 'default/deletes' });
      expect(result.failure).toBeUndefined();
      return result.report.export.files[0].rows === 0 ? [] : lines(fileOf(result.report));
    };
    await withClient(urls.sourceUrl, async (c) => {
      await c.query(`INSERT INTO members VALUES (6, 'Dee', 'd@x.org', 0, $1::timestamptz + interval '3 hours')`, [T0]);
      await c.query(`INSERT INTO points_transactions VALUES (20, 6, 3, $1::timestamptz + interval '3 hours'), (21, 6, 4, $1::timestamptz + interval '3 hours')`, [T0]);
    });
    await run();
    // What README says is not caught: max(created_at) only drops, and the cursor is after the watermark for no row.
    await withClient(urls.sourceUrl, (c) => c.query(`DELETE FROM points_transactions WHERE id = 21`));
    expect(await run()).toEqual([]);
    // The documented remedy: the delete moves the member's own change time forward.
    await withClient(urls.sourceUrl, (c) =>
      c.query(`
        CREATE FUNCTION touch_member() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE members SET updated_at = clock_timestamp() WHERE id = OLD.member_id; RETURN NULL; END $$;
        CREATE TRIGGER points_deleted AFTER DELETE ON points_transactions FOR EACH ROW EXECUTE FUNCTION touch_member();
        DELETE FROM points_transactions WHERE id = 20;`),
    );
    expect((await run()).map(({ member_id, transactions }) => ({ member_id, transactions }))).toEqual([{ member_id: 6, transactions: [] }]);
    expect(await run()).toEqual([]);
    await withClient(urls.sourceUrl, (c) => c.query(`DROP TRIGGER points_deleted ON points_transactions`));
  });

  it('refuses a query that repeats a key (a member would be exported twice) or lacks the declared columns, and keeps the watermark', async () => {
    const ungrouped = `SELECT m.id AS member_id, p.points, greatest(m.updated_at, p.created_at) AS changed_at FROM members m JOIN points_transactions p ON p.member_id = m.id`;
    const repeated = await exportOnce(urls, spec(ungrouped, 'ungrouped_{seq}'), context(), { flowId: 'default/ungrouped' });
    expect(String(repeated.failure)).toMatch(/spec\.target\.export\.changes\.keys: the query returns more than one row for the key \(3\)/);
    expect(repeated.report.watermarksAfter.query).toBeUndefined();

    const missing = await exportOnce(urls, spec(`SELECT id AS member_id FROM members`, 'missing_{seq}'), context(), { flowId: 'default/missing' });
    expect(String(missing.failure)).toMatch(/spec\.target\.export\.changes: the query has no column "changed_at"/);
  });

  it('validation: Changes of a query needs changes.keys and cursor, and a PostgreSQL source', () => {
    const paths = (s: SyncFlowSpec) => validateSyncFlow(flowOf(s)).map((e) => `${e.path}: ${e.message}`);
    expect(paths(spec(MEMBERS_WITH_POINTS, 'ok_{seq}'))).toEqual([]);
    const { changes: _dropped, ...withoutChanges } = spec(MEMBERS_WITH_POINTS, 'x_{seq}').target.export!;
    expect(paths({ ...spec(MEMBERS_WITH_POINTS, 'x_{seq}'), target: { export: withoutChanges } })).toEqual([
      expect.stringMatching(/^spec\.target\.export\.changes: a query in Changes mode needs changes\.keys and changes\.cursor/),
    ]);
    const maria = { ...spec('SELECT 1 AS member_id, now() AS changed_at', 'm_{seq}'), source: { mysql: { secretRef: { name: 'src' } } } } as SyncFlowSpec;
    expect(paths(maria)).toEqual([expect.stringMatching(/^spec\.target\.export\.changes: Changes exports of a query are supported on PostgreSQL sources only/)]);
  });
});
