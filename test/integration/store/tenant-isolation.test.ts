import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../../src/store/db.js';
import { acquireFlowLock, releaseFlowLock } from '../../../src/store/run-lock.js';
import { NAMESPACE_POLICY, NOT_ISOLATED_TABLES, OWNER_POLICY, isolationOfTables } from '../../../src/store/tenant-isolation.js';
import { issueNamespaceCredential, namespaceStateUrl, type NamespaceCredential } from '../../../src/store/tenant-roles.js';
import { FlowBusyError } from '../../../src/util/errors.js';
import { freshDatabase } from '../../helpers/databases.js';
import { nonSuperuserOwner } from '../../helpers/state-owner.js';

/**
 * Row-level security with real roles: a non-superuser owner (the controller's credential, which owns
 * the schema) and two namespaces' roles it created. The seeds below put one row of each namespace in
 * every table; a table added later without a seed here, or without policies, fails the suite.
 */
const NAMESPACES = ['team-a', 'team-b'] as const;
type Ns = (typeof NAMESPACES)[number];

const SEEDS: Record<string, (ns: Ns) => [string, unknown[]][]> = {
  runs: (ns) => [[`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ($1, $2, 'Full', 'Succeeded')`, [`${ns}-run`, `${ns}/crm`]]],
  run_entities: (ns) => [[`INSERT INTO ferry.run_entities (run_id, entity, position) VALUES ($1, 'people', 0)`, [`${ns}-run`]]],
  rejected_rows: (ns) => [[`INSERT INTO ferry.rejected_rows (run_id, entity, reason) VALUES ($1, 'people', 'bad')`, [`${ns}-run`]]],
  watermarks: (ns) => [[`INSERT INTO ferry.watermarks (flow, entity, cursor, key, run_id) VALUES ($1, 'people', 'c', '["k"]', $2)`, [`${ns}/crm`, `${ns}-run`]]],
  pair_scopes: (ns) => [[`INSERT INTO ferry.pair_scopes (flow, entity) VALUES ($1, 'people')`, [`${ns}/crm`]]],
  pairs: (ns) => [[`INSERT INTO ferry.pairs (scope, source_key, target_key) VALUES (ferry.pair_scope($1, 'people'), 'k1', 't1')`, [`${ns}/crm`]]],
  run_locks: (ns) => [[`INSERT INTO ferry.run_locks (flow, run_id, holder) VALUES ($1, $2, 'h')`, [`${ns}/other`, `${ns}-run`]]],
  inflight_batches: (ns) => [[`INSERT INTO ferry.inflight_batches (flow, entity, run_id, source_keys) VALUES ($1, 'people', $2, '[]')`, [`${ns}/crm`, `${ns}-run`]]],
  export_runs: (ns) => [[`INSERT INTO ferry.export_runs (run_id, flow, mode, creation_status, transfer_status) VALUES ($1, $2, 'Snapshot', 'Created', 'Transferred')`, [`${ns}-run`, `${ns}/crm`]]],
  export_files: (ns) => [[`INSERT INTO ferry.export_files (id, run_id, flow, entity, part, name, rows, bytes, sha256, location) VALUES ($1, $2, $3, 'people', 1, 'f.csv', 1, 1, 'x', 'db')`, [`${ns}-file`, `${ns}-run`, `${ns}/crm`]]],
  export_file_chunks: (ns) => [[`INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ($1, 0, $2)`, [`${ns}-file`, Buffer.from(`secret of ${ns}`)]]],
  export_transfers: (ns) => [[`INSERT INTO ferry.export_transfers (run_id, file_id, target, status) VALUES ($1, $2, 'sftp', 'transferred')`, [`${ns}-run`, `${ns}-file`]]],
  two_way_redo: (ns) => [[`INSERT INTO ferry.two_way_redo (flow, entity, run_id, items) VALUES ($1, 'people', $2, '[]')`, [`${ns}/crm`, `${ns}-run`]]],
  pair_conflict_fields: (ns) => [[`INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, run_id) VALUES ($1, 'people', 'k1', 'name', 'name', 0, $2)`, [`${ns}/crm`, `${ns}-run`]]],
  unpaired_records: (ns) => [
    [`INSERT INTO ferry.unpaired_records (flow, entity, side, record_key, match_values, match_tokens, reason, in_scope, run_id) VALUES ($1, 'people', 'source', 'k2', '{x}', '{0:x}', 'unmatched', true, $2)`, [`${ns}/crm`, `${ns}-run`]],
  ],
  source_files: (ns) => [
    [`INSERT INTO ferry.source_files (flow, entity, name, sha256, size, modified_at, path, status) VALUES ($1, 'people', 'a.csv', 'x', 1, now(), 'a.csv', 'imported')`, [`${ns}/crm`]],
  ],
  admitted_flows: (ns) => [[`INSERT INTO ferry.admitted_flows (sync_job_uid, flow, generation, spec) VALUES ($1, $2, 1, '{}')`, [`${ns}-uid`, `${ns}/crm`]]],
  flow_targets: (ns) => [[`INSERT INTO ferry.flow_targets (flow, entity, target_system, target_table, target_keys) VALUES ($1, 'people', 'pg', 'people', 'id')`, [`${ns}/crm`]]],
  unpaired_deletions: (ns) => [[`INSERT INTO ferry.unpaired_deletions (xid, flow, record) VALUES (1, $1, '{}')`, [`${ns}/crm`]]],
  pair_deletions: (ns) => [[`INSERT INTO ferry.pair_deletions (xid, flow, pair) VALUES (1, $1, '{}')`, [`${ns}/crm`]]],
  create_intents: (ns) => [[`INSERT INTO ferry.create_intents (flow, entity, side, source_key, idempotency_key, run_id) VALUES ($1, 'people', 'target', 'k1', 'i1', $2)`, [`${ns}/crm`, `${ns}-run`]]],
  file_side_records: (ns) => [[`INSERT INTO ferry.file_side_records (flow, entity, key, position, row) VALUES ($1, 'people', 'k1', '000000000001:000000000002', '{}')`, [`${ns}/crm`]]],
};

let adminUrl: string;
let ownerUrl: string;
let ownerRole: string;
const credentials = {} as Record<Ns, NamespaceCredential>;
const clients = {} as Record<Ns, pg.Client>;
let owner: pg.Client;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The SQLSTATE of a statement that must fail. */
async function refusal(client: pg.Client, text: string, values: unknown[] = []): Promise<string> {
  await client.query('SAVEPOINT probe');
  try {
    await client.query(text, values);
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT probe');
    return (error as { code: string }).code;
  }
  await client.query('ROLLBACK TO SAVEPOINT probe');
  throw new Error(`expected to be refused: ${text}`);
}

async function inRolledBack<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    return await fn();
  } finally {
    await client.query('ROLLBACK');
  }
}

beforeAll(async () => {
  adminUrl = await freshDatabase('tenant_iso');
  ownerUrl = await nonSuperuserOwner(adminUrl);
  ownerRole = decodeURIComponent(new URL(ownerUrl).username);
  await (await openStateStore(ownerUrl)).close();
  owner = await connect(ownerUrl);
  for (const ns of NAMESPACES) {
    credentials[ns] = await issueNamespaceCredential(owner, ns);
    for (const seed of Object.values(SEEDS)) for (const [text, values] of seed(ns)) await owner.query(text, values);
    clients[ns] = await connect(namespaceStateUrl(ownerUrl, credentials[ns]));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([owner, ...Object.values(clients)].map((c) => c?.end().catch(() => {})));
});

describe('tenant isolation in the state database', () => {
  it('every ferry.* table has forced row-level security with an owner and a namespace policy', async () => {
    const tables = await isolationOfTables(owner);
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables.filter((t) => !NOT_ISOLATED_TABLES.includes(t.table) && t.table !== 'tenant_roles')) {
      expect({ table: t.table, rls: t.rls, forced: t.forced }).toEqual({ table: t.table, rls: true, forced: true });
      expect(t.policies, t.table).toEqual(expect.arrayContaining([OWNER_POLICY, NAMESPACE_POLICY]));
      expect(Object.keys(SEEDS), `no seed rows for ferry.${t.table} in this test: add one so its isolation is checked`).toContain(t.table);
    }
  });

  it("the owner's queries keep their indexes, also for operators that are not leakproof", async () => {
    await inRolledBack(owner, async () => {
      await owner.query('SET LOCAL enable_seqscan = off');
      const plan = await owner.query(`EXPLAIN SELECT * FROM ferry.unpaired_records WHERE match_tokens && ARRAY['0:x']`);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('unpaired_records_tokens_idx');
    });
  });

  it('a namespace reads, updates and deletes only its own rows, table by table', async () => {
    for (const table of Object.keys(SEEDS)) {
      const all = Number((await owner.query(`SELECT count(*) AS n FROM ferry.${table}`)).rows[0].n);
      expect(all, `owner sees both namespaces in ${table}`).toBeGreaterThanOrEqual(2);
      for (const ns of NAMESPACES) {
        const client = clients[ns];
        const seen = Number((await client.query(`SELECT count(*) AS n FROM ferry.${table}`)).rows[0].n);
        expect(seen, `${ns} reads ${table}`).toBe(1);
        const column = (
          await owner.query(
            `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1`,
            [`ferry.${table}`],
          )
        ).rows[0].attname;
        const quoted = pg.escapeIdentifier(column);
        if (table === 'pair_scopes') {
          // Read-only for a namespace: its scopes are made by ferry.pair_scope() (see the write test below).
          expect(await inRolledBack(client, () => refusal(client, `UPDATE ferry.${table} SET ${quoted} = ${quoted}`)), `${ns} updates ${table}`).toBe('42501');
          expect(await inRolledBack(client, () => refusal(client, `DELETE FROM ferry.${table}`)), `${ns} deletes from ${table}`).toBe('42501');
          continue;
        }
        const updated = await inRolledBack(client, () => client.query(`UPDATE ferry.${table} SET ${quoted} = ${quoted}`));
        expect(updated.rowCount, `${ns} updates ${table}`).toBe(1);
        const deleted = await inRolledBack(client, () => client.query(`DELETE FROM ferry.${table}`));
        expect(deleted.rowCount, `${ns} deletes from ${table}`).toBe(1);
      }
      expect(Number((await owner.query(`SELECT count(*) AS n FROM ferry.${table}`)).rows[0].n)).toBe(all);
    }
  });

  it("cannot write rows into another namespace or move its rows there", async () => {
    const a = clients['team-a'];
    await inRolledBack(a, async () => {
      expect(await refusal(a, `INSERT INTO ferry.pairs (scope, source_key, target_key) VALUES (ferry.pair_scope('team-b/crm', 'people'), 'x', 'x')`)).toBe('42501');
      // A pair belongs to a flow through its scope (no flow column): moving one there is moving it under
      // team-b's scope, and a pair written under team-b's scope could collide with (probe for) team-b's keys.
      const scopeOfB = (await owner.query(`SELECT id FROM ferry.pair_scopes WHERE flow = 'team-b/crm'`)).rows[0].id;
      expect(await refusal(a, `INSERT INTO ferry.pairs (scope, source_key, target_key) VALUES ($1, 'k1', 'x')`, [scopeOfB])).toBe('42501');
      expect(await refusal(a, `UPDATE ferry.pairs SET scope = $1`, [scopeOfB])).toBe('42501');
      expect(await refusal(a, `SELECT ferry.pair_scope('team-b/crm', 'people')`)).toBe('42501');
      expect(await refusal(a, `INSERT INTO ferry.pair_scopes (id, flow, entity) OVERRIDING SYSTEM VALUE VALUES (1000, 'team-a/next', 'people')`)).toBe('42501');
      // Its own flows' scopes it gets (made when missing).
      expect((await a.query(`SELECT ferry.pair_scope('team-a/crm', 'people') AS id`)).rows[0].id).toBe(
        (await owner.query(`SELECT id FROM ferry.pair_scopes WHERE flow = 'team-a/crm'`)).rows[0].id,
      );
      expect((await a.query(`SELECT ferry.pair_scope('team-a/new', 'people') AS id`)).rows[0].id).toBeGreaterThan(0);
      expect(await refusal(a, `INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('sneaky', 'team-b/crm', 'Full', 'Running')`)).toBe('42501');
      expect(await refusal(a, `INSERT INTO ferry.run_entities (run_id, entity, position) VALUES ('team-b-run', 'x', 1)`)).toBe('42501');
      expect(await refusal(a, `INSERT INTO ferry.export_file_chunks (file_id, seq, data) VALUES ('team-b-file', 9, '\\x00')`)).toBe('42501');
      expect(await refusal(a, `INSERT INTO ferry.export_transfers (run_id, file_id, target, status) VALUES ('team-b-run', 'team-a-file', 't', 'failed')`)).toBe('42501');
    });
  });

  it("cannot read another namespace's export file chunks, even by id", async () => {
    const chunks = await clients['team-a'].query(`SELECT data FROM ferry.export_file_chunks WHERE file_id = 'team-b-file'`);
    expect(chunks.rows).toEqual([]);
    const own = await clients['team-a'].query(`SELECT data FROM ferry.export_file_chunks WHERE file_id = 'team-a-file'`);
    expect(own.rows[0].data.toString()).toBe('secret of team-a');
  });

  it('cannot run DDL, TRUNCATE, drop policies or SET ROLE', async () => {
    const a = clients['team-a'];
    await inRolledBack(a, async () => {
      expect(await refusal(a, 'CREATE TABLE ferry.sneaky (x int)')).toBe('42501');
      expect(await refusal(a, 'CREATE TABLE public.sneaky (x int)')).toBe('42501');
      expect(await refusal(a, 'ALTER TABLE ferry.pairs ADD COLUMN sneaky int')).toBe('42501');
      expect(await refusal(a, 'ALTER TABLE ferry.pairs DISABLE ROW LEVEL SECURITY')).toBe('42501');
      expect(await refusal(a, `DROP POLICY ${NAMESPACE_POLICY} ON ferry.pairs`)).toBe('42501');
      expect(await refusal(a, 'TRUNCATE ferry.pairs')).toBe('42501');
      expect(await refusal(a, 'CREATE FUNCTION ferry.sneaky() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')).toBe('42501');
      expect(await refusal(a, `SET ROLE ${pg.escapeIdentifier(credentials['team-b'].role)}`)).toBe('42501');
      expect(await refusal(a, `SET ROLE ${pg.escapeIdentifier(ownerRole)}`)).toBe('42501');
      expect(await refusal(a, `INSERT INTO ferry.__drizzle_migrations (hash, created_at) VALUES ('x', 1)`)).toBe('42501');
      expect(await refusal(a, `UPDATE ferry.tenant_roles SET lock_salt = 'x'`)).toBe('42501');
    });
    // The migration journal is readable (a Job checks the schema is current); the role table shows its own row only.
    expect((await a.query('SELECT count(*) AS n FROM ferry.__drizzle_migrations')).rows[0].n).not.toBe('0');
    expect((await a.query('SELECT namespace FROM ferry.tenant_roles')).rows).toEqual([{ namespace: 'team-a' }]);
  });

  it("cannot take or block another namespace's flow lock", async () => {
    const [a, b] = [clients['team-a'], clients['team-b']];
    const keyAsA = (await a.query(`SELECT ferry.flow_lock_key('team-a/crm') AS k`)).rows[0].k;
    const keyAsB = (await b.query(`SELECT ferry.flow_lock_key('team-a/crm') AS k`)).rows[0].k;
    expect(keyAsB).not.toBe(keyAsA);
    // B holds what it believes is A's key; A still gets its lock.
    await b.query('SELECT pg_advisory_lock($1)', [keyAsB]);
    await acquireFlowLock(a, 'team-a/crm', 'team-a-run-2');
    // ...and B cannot take A's flow through the store either.
    await expect(acquireFlowLock(b, 'team-a/crm', 'team-b-run-2')).rejects.toThrow();
    // A second holder in A's own namespace is refused as usual.
    const a2 = await connect(namespaceStateUrl(ownerUrl, credentials['team-a']));
    try {
      await expect(acquireFlowLock(a2, 'team-a/crm', 'team-a-run-3')).rejects.toBeInstanceOf(FlowBusyError);
    } finally {
      await a2.end();
    }
    await releaseFlowLock(a, 'team-a/crm', 'team-a-run-2');
    await b.query('SELECT pg_advisory_unlock($1)', [keyAsB]);
  });

  it('a namespace skips migrations and refuses a schema that is behind', async () => {
    const urlA = namespaceStateUrl(ownerUrl, credentials['team-a']);
    await (await openStateStore(urlA)).close();
    const newest = await owner.query('SELECT id, hash, created_at FROM ferry.__drizzle_migrations ORDER BY created_at DESC LIMIT 1');
    await owner.query('DELETE FROM ferry.__drizzle_migrations WHERE id = $1', [newest.rows[0].id]);
    try {
      await expect(openStateStore(urlA)).rejects.toThrow(/lacks migrations up to \S+: this credential is a namespace's and may not change the schema/);
    } finally {
      await owner.query('INSERT INTO ferry.__drizzle_migrations (id, hash, created_at) VALUES ($1, $2, $3)', [newest.rows[0].id, newest.rows[0].hash, newest.rows[0].created_at]);
    }
  });

  it("cannot take or block the owner's migration lock", async () => {
    const a = clients['team-a'];
    // The advisory key of a fresh database's first start: a namespace may hold it, and the owner still migrates.
    await a.query('SELECT pg_advisory_lock($1)', [0x66657272]);
    try {
      const started = Date.now();
      await (await openStateStore(ownerUrl)).close();
      expect(Date.now() - started).toBeLessThan(15_000);
      await inRolledBack(a, async () => {
        expect(await refusal(a, 'LOCK TABLE ferry.__drizzle_migrations IN SHARE UPDATE EXCLUSIVE MODE')).toBe('42501');
        expect(await refusal(a, 'LOCK TABLE ferry.tenant_roles IN SHARE ROW EXCLUSIVE MODE')).toBe('42501');
      });
    } finally {
      await a.query('SELECT pg_advisory_unlock($1)', [0x66657272]);
    }
    // Two owners starting at once take turns (the second waits for the first's journal lock).
    await Promise.all([openStateStore(ownerUrl), openStateStore(ownerUrl)].map(async (opened) => (await opened).close()));
  });

  it('a new password replaces the old one, which stops working', async () => {
    const before = credentials['team-b'];
    const after = await issueNamespaceCredential(owner, 'team-b');
    expect(after.role).toBe(before.role);
    expect(after.password).not.toBe(before.password);
    await expect(connect(namespaceStateUrl(ownerUrl, before))).rejects.toThrow(/password authentication failed/);
    const fresh = await connect(namespaceStateUrl(ownerUrl, after));
    expect((await fresh.query('SELECT count(*) AS n FROM ferry.pairs')).rows[0].n).toBe('1');
    await fresh.end();
  });
});
