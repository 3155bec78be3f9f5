/**
 * Issue 16 item 14: two flows that link the same target rows overwrite each other on every run. The
 * report names the other flow (Warn, the default), or the run refuses those rows (Refuse); a flow in
 * another namespace is never named, also when the runs use the namespaces' own state roles.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { runSync } from '../../src/connectors/run.js';
import type { RunReport } from '../../src/engine/report.js';
import type { RunRequest } from '../../src/engine/run.js';
import { openStateStore } from '../../src/store/db.js';
import { issueNamespaceCredential, namespaceStateUrl } from '../../src/store/tenant-roles.js';
import { createLogger } from '../../src/util/logger.js';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { MINI_SOURCE_SQL, miniFlowSpec, seedMini, seededMiniRun, sqlRows, type MiniDatabases } from '../helpers/mini-flow.js';

const logger = createLogger({ level: 'silent', pretty: false });
const people = (report: RunReport) => report.entities.find((e) => e.name === 'people')!;

let dbs: MiniDatabases;
let flowA: Omit<RunRequest, 'mode'>;
/** A second source with the same people (same e-mails, other names), linked into the same target rows. */
let otherSourceUrl: string;

beforeEach(async () => {
  ({ dbs, base: flowA } = await seededMiniRun('team/a', logger));
  otherSourceUrl = await freshDatabase('src_b');
  await withClient(otherSourceUrl, (c) => c.query(MINI_SOURCE_SQL));
  await seedMini(otherSourceUrl);
  await sqlRows(otherSourceUrl, `UPDATE people SET name = name || ' (B)'`);
});

const flow = (flowId: string, spec: Partial<SyncFlowSpec> = {}): Omit<RunRequest, 'mode'> => ({ ...flowA, flowId, sourceUrl: otherSourceUrl, spec: miniFlowSpec(spec) });
const targetIdOf = async (email: string) => String((await sqlRows(dbs.targetUrl, `SELECT id FROM people WHERE email = $1`, [email]))[0].id);

describe('two flows linking the same target rows', () => {
  it('Warn (the default): both runs write, and each report names the other flow and the keys', async () => {
    const first = await runSync({ ...flowA, mode: 'Full' });
    expect(people(first).created).toBe(7);
    expect(people(first).notes.join('\n')).not.toMatch(/also linked/);

    const second = await runSync({ ...flow('team/b'), mode: 'Full' });
    expect(second.status).toBe('Succeeded');
    expect(people(second).linked).toBe(7);
    const ids = (await sqlRows(dbs.targetUrl, `SELECT id FROM people ORDER BY id`)).map((r) => String(r.id));
    expect(people(second).notes).toContain(
      `7 target rows are also linked by flow team/a (keys ${ids.slice(0, 5).join('; ')} and 2 more): written; the flows overwrite each other there on every run`,
    );
    // Firms have no match keys: flow b created its own rows, which nobody else links.
    expect(second.entities.find((e) => e.name === 'firms')!.notes.join('\n')).not.toMatch(/also linked/);

    await sqlRows(dbs.sourceUrl, `UPDATE people SET name = 'Ann A2', updated_at = now() WHERE id = 10`);
    const back = await runSync({ ...flowA, mode: 'Incremental' });
    expect(people(back).updated).toBe(1);
    expect(people(back).notes).toContain(`1 target row is also linked by flow team/b (keys ${await targetIdOf('ann@example.org')}): written; the flows overwrite each other there on every run`);
  });

  it('Refuse: the run rejects the rows another flow links, with the reason, and leaves them as they are', async () => {
    await runSync({ ...flowA, mode: 'Full' });
    const refusing = flow('team/b', { sharedTargetRows: 'Refuse' });
    const first = await runSync({ ...refusing, mode: 'Full' });
    expect(first.status).toBe('Succeeded');
    expect(people(first)).toMatchObject({ linked: 0, created: 0, updated: 0, rejected: 7 });
    const ann = await targetIdOf('ann@example.org');
    expect(first.rejectedSamples).toContainEqual({ entity: 'people', key: '10', reason: `target row ${ann} is also linked by flow team/a (spec.sharedTargetRows: Refuse)` });
    expect(people(first).notes.join('\n')).toMatch(/^7 target rows are also linked by flow team\/a \(keys .*\): refused \(spec\.sharedTargetRows: Refuse\)$/m);
    expect(await sqlRows(dbs.targetUrl, `SELECT full_name FROM people WHERE id = $1`, [ann])).toEqual([{ full_name: 'Ann' }]);

    // Flow b linked none of them, so flow a writes them with nothing to report.
    await sqlRows(dbs.sourceUrl, `UPDATE people SET name = 'Ann A2', updated_at = now() WHERE id = 10`);
    const a = await runSync({ ...flowA, mode: 'Incremental' });
    expect(people(a).updated).toBe(1);
    expect(people(a).notes.join('\n')).not.toMatch(/also linked/);
  });

  it('a flow in another namespace is not named, and its role sees nothing of this namespace through the lookup', async () => {
    await (await openStateStore(dbs.stateUrl)).close();
    const roleUrl = async (namespace: string) => namespaceStateUrl(dbs.stateUrl, await withClient(dbs.stateUrl, (c) => issueNamespaceCredential(c, namespace)));
    const [teamUrl, otherUrl] = [await roleUrl('team'), await roleUrl('other')];

    expect((await runSync({ ...flowA, stateUrl: teamUrl, mode: 'Full' })).status).toBe('Succeeded');
    const other = await runSync({ ...flow('other/c'), stateUrl: otherUrl, mode: 'Full' });
    expect(other.status).toBe('Succeeded');
    expect(people(other).notes.join('\n')).toMatch(/^7 target rows are also linked by a flow in another namespace \(keys /m);
    expect(JSON.stringify(other)).not.toMatch(/team\//);

    // The lookup answers only for the caller's own flows, and row-level security still hides the rest.
    // Pairs keep keys encoded (engine/keys.ts): ask with the stored form of a key both flows link.
    const [{ key: ann }] = await sqlRows(dbs.stateUrl, `SELECT target_key AS key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'team/a' AND entity = 'people' LIMIT 1`);
    await withClient(otherUrl, async (c) => {
      expect((await c.query(`SELECT count(*)::int AS n FROM ferry.shared_target_rows('other/c', 'people', ARRAY[$1])`, [ann])).rows).toEqual([{ n: 1 }]);
      expect((await c.query(`SELECT * FROM ferry.shared_target_rows('team/a', 'people', ARRAY[$1])`, [ann])).rows).toEqual([]);
      expect((await c.query(`SELECT ferry.target_table_shared('team/a', 'people') AS shared`)).rows).toEqual([{ shared: false }]);
      expect((await c.query(`SELECT DISTINCT flow FROM ferry.flow_targets`)).rows).toEqual([{ flow: 'other/c' }]);
    });
    // The owner's view of team/a: flow other/c is in another namespace, so it is not named either.
    const back = await withClient(dbs.stateUrl, async (c) => (await c.query(`SELECT other_flow FROM ferry.shared_target_rows('team/a', 'people', ARRAY[$1])`, [ann])).rows);
    expect(back).toEqual([{ other_flow: null }]);
  });
});
