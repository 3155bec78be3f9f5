import { text } from 'node:stream/consumers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore, type StateStore } from '../../../src/store/db.js';
import { getExportFile, listExportFiles, streamExportFile } from '../../../src/store/export-file-reads.js';
import { readAsNamespace } from '../../../src/store/namespace-scope.js';
import { getPair, listPairs } from '../../../src/store/pair-reads.js';
import { getRun, listRuns, rejectedRows } from '../../../src/store/run-reads.js';
import { listUnpaired } from '../../../src/store/unpaired-records.js';
import { changedPairs } from '../../../src/store/change-reads.js';
import { issueNamespaceCredential, namespaceRole, namespaceStateUrl, retireNamespaceRole } from '../../../src/store/tenant-roles.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { awaitHorizonPastNow } from '../../helpers/horizon.js';
import { nonSuperuserOwner } from '../../helpers/state-owner.js';

/**
 * The data API's reads of one namespace run as that namespace's role (store/namespace-scope.ts): a
 * filter that names another namespace, or none at all, still returns only the namespace's rows,
 * because PostgreSQL's policies decide. The owner is a non-superuser with CREATEROLE, as in a cluster.
 */
const NAMESPACES = ['team-a', 'team-b', 'team-c'] as const;

async function seed(db: pg.ClientBase, ns: string): Promise<void> {
  await db.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ($1, $2, 'Full', 'Succeeded')`, [`${ns}-run`, `${ns}/crm`]);
  await db.query(`INSERT INTO ferry.rejected_rows (run_id, entity, reason) VALUES ($1, 'people', 'bad')`, [`${ns}-run`]);
  await db.query(`INSERT INTO ferry.pairs (scope, source_key, target_key) VALUES (ferry.pair_scope($1, 'people'), 'k1', 't1')`, [`${ns}/crm`]);
  await db.query(
    `INSERT INTO ferry.unpaired_records (flow, entity, side, record_key, match_values, match_tokens, reason, in_scope, run_id)
     VALUES ($1, 'people', 'source', 'k2', '{x}', '{0:x}', 'unmatched', true, $2)`,
    [`${ns}/crm`, `${ns}-run`],
  );
  await db.query(
    `INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location) VALUES ($1, $2, $3, 'people', 1, 'f.csv', 1, $4, 'x', 'db')`,
    [`${ns}-file`, `${ns}-run`, `${ns}/crm`, Buffer.byteLength(`secret of ${ns}`)],
  );
  await db.query(`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ($1, 0, $2)`, [`${ns}-file`, Buffer.from(`secret of ${ns}`)]);
}

let ownerUrl: string;
let adminUrl: string;
let store: StateStore;

beforeAll(async () => {
  adminUrl = await freshDatabase('ns_scope');
  ownerUrl = await nonSuperuserOwner(adminUrl);
  store = await openStateStore(ownerUrl);
  await withClient(ownerUrl, async (c) => {
    // team-a and team-b have roles (the controller issued them); team-c's rows were written by the owner only.
    for (const ns of ['team-a', 'team-b']) await issueNamespaceCredential(c, ns);
    for (const ns of NAMESPACES) await seed(c, ns);
  });
}, 60_000);

afterAll(async () => {
  await store?.close();
});

describe("reads in a namespace's scope", () => {
  it('a filter naming another namespace, or none, returns no row of another namespace', async () => {
    await awaitHorizonPastNow(store.pool);
    const rows = await readAsNamespace(store.pool, 'team-a', async (db) => ({
      wrongNamespace: await listPairs(db, { namespace: 'team-b', limit: 10 }),
      wrongFlow: await listPairs(db, { flow: 'team-b/crm', limit: 10 }),
      unfiltered: await listPairs(db, { limit: 10 }),
      pairOfB: await getPair(db, { flow: 'team-b/crm', entity: 'people', sourceKey: 'k1' }),
      runs: await listRuns(db, { limit: 10 }),
      runOfB: await getRun(db, 'team-b-run'),
      rejectedOfB: await rejectedRows(db, 'team-b-run', { limit: 10 }),
      files: await listExportFiles(db, { limit: 10 }),
      fileOfB: await getExportFile(db, 'team-b-file'),
      unpaired: await listUnpaired(db, { namespace: 'team-b', limit: 10 }),
      changes: await changedPairs(db, {}, 1),
    }));
    expect(rows.wrongNamespace).toEqual([]);
    expect(rows.wrongFlow).toEqual([]);
    expect(rows.unfiltered.map((p) => p.flow)).toEqual(['team-a/crm']);
    expect(rows.pairOfB).toBeUndefined();
    expect(rows.runs.map((r) => r.id)).toEqual(['team-a-run']);
    expect(rows.runOfB).toBeUndefined();
    expect(rows.rejectedOfB).toEqual([]);
    expect(rows.files.map((f) => f.id)).toEqual(['team-a-file']);
    expect(rows.fileOfB).toBeUndefined();
    expect(rows.unpaired).toEqual([]);
    expect(rows.changes.changed.map((p) => p.flow)).toEqual(['team-a/crm']);
    // The owner, unscoped, sees all three namespaces: the difference is the role, not the data.
    expect((await listPairs(store.pool, { limit: 10 })).map((p) => p.flow)).toEqual(['team-a/crm', 'team-b/crm', 'team-c/crm']);
  });

  it("a download streamed in one namespace's scope reads nothing of another's file", async () => {
    const own = await text(streamExportFile(store.pool, { id: 'team-a-file', location: 'db' }, 'team-a'));
    const other = await text(streamExportFile(store.pool, { id: 'team-b-file', location: 'db' }, 'team-a'));
    expect(own).toBe('secret of team-a');
    expect(other).toBe('');
  });

  it('a namespace without a role gets one that cannot log in, and reads only its rows', async () => {
    expect(await namespaceRole(store.pool, 'team-c')).toBeUndefined();
    const runs = await readAsNamespace(store.pool, 'team-c', (db) => listRuns(db, { limit: 10 }));
    expect(runs.map((r) => r.id)).toEqual(['team-c-run']);
    const role = await namespaceRole(store.pool, 'team-c');
    expect(role).toBeDefined();
    const { rows } = await store.pool.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
    expect(rows).toEqual([{ rolcanlogin: false }]);
  });

  it('the pooled sessions are the owner again after a scoped read, and a failed read drops its session', async () => {
    const owner = (await store.pool.query('SELECT current_user AS u')).rows[0].u;
    await expect(readAsNamespace(store.pool, 'team-a', (db) => db.query('SELECT no_such_column FROM ferry.runs'))).rejects.toThrow(/no_such_column/);
    for (let i = 0; i < 6; i++) await readAsNamespace(store.pool, 'team-b', (db) => listRuns(db, { limit: 1 }));
    const users = await Promise.all(Array.from({ length: 4 }, () => store.pool.query('SELECT current_user AS u, pg_has_role(current_user, (SELECT nspowner FROM pg_namespace WHERE nspname = $$ferry$$), $$USAGE$$) AS owner')));
    expect(users.map((r) => r.rows[0])).toEqual(Array.from({ length: 4 }, () => ({ u: owner, owner: true })));
    // Writes are refused in a scope (the data API only reads).
    await expect(readAsNamespace(store.pool, 'team-a', (db) => db.query(`DELETE FROM ferry.runs`))).rejects.toThrow(/read-only transaction/);
  });

  it('with a superuser owner too (the grant is not needed there)', async () => {
    const superStore = await openStateStore(adminUrl);
    try {
      const runs = await readAsNamespace(superStore.pool, 'team-b', (db) => listRuns(db, { namespace: 'team-a', limit: 10 }));
      expect(runs).toEqual([]);
      expect((await readAsNamespace(superStore.pool, 'team-b', (db) => listRuns(db, { limit: 10 }))).map((r) => r.id)).toEqual(['team-b-run']);
    } finally {
      await superStore.close();
    }
  });
});

describe("retiring a namespace's role", () => {
  it('ends its sessions and its login, drops the role, keeps its rows readable in scope', async () => {
    const credential = await withClient(ownerUrl, (c) => issueNamespaceCredential(c, 'team-d'));
    await withClient(ownerUrl, (c) => seed(c, 'team-d'));
    const url = namespaceStateUrl(ownerUrl, credential);
    const open = new pg.Client({ connectionString: url });
    const ended = new Promise<Error>((resolve) => open.on('error', resolve));
    await open.connect();
    expect((await open.query('SELECT count(*)::int AS n FROM ferry.runs')).rows).toEqual([{ n: 1 }]);

    const retired = await withClient(ownerUrl, (c) => retireNamespaceRole(c, 'team-d'));
    expect(retired).toBe(credential.role);
    expect((await ended).message).toMatch(/terminat/);
    await open.end().catch(() => {});
    await expect(withClient(url, (c) => c.query('SELECT 1'))).rejects.toThrow(/password authentication failed|does not exist/);
    expect((await store.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [credential.role])).rowCount).toBe(0);
    expect(await namespaceRole(store.pool, 'team-d')).toBeUndefined();
    // Its history stays, readable in its scope (a role without LOGIN is made for the read).
    expect((await readAsNamespace(store.pool, 'team-d', (db) => listRuns(db, { limit: 10 }))).map((r) => r.id)).toEqual(['team-d-run']);
    // Retiring twice is a no-op; the namespace can get a credential again.
    await withClient(ownerUrl, async (c) => {
      await retireNamespaceRole(c, 'team-d');
      await retireNamespaceRole(c, 'team-d');
      const again = await issueNamespaceCredential(c, 'team-d');
      await withClient(namespaceStateUrl(ownerUrl, again), async (ns) => expect((await ns.query('SELECT count(*)::int AS n FROM ferry.runs')).rows).toEqual([{ n: 1 }]));
    });
  });
});
