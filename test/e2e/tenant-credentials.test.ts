import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateCredentials } from '../../src/cli/kubectl-ferry/rotate.js';
import { DEFAULT_CREDENTIALS_SECRET } from '../../src/controller/config.js';
import type { Controller } from '../../src/controller/controller.js';
import { isStatus, type Kube } from '../../src/controller/kube.js';
import { ANNOTATION_ROLE, LABEL_CREDENTIALS } from '../../src/controller/state-credentials.js';
import { freshDatabase, withClient } from '../helpers/databases.js';
import { createNamespace, flowManifest, jobManifest, kubeClient, miniFlowDatabases, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';
import { kubectl } from './fixtures/kubectl.js';

/**
 * Two teams' namespaces, one state database. Each namespace's Jobs run with the credential the
 * controller wrote into that namespace, which reaches only that namespace's rows.
 */
const NS = ['e2e-tenant-a', 'e2e-tenant-b'] as const;
let kube: Kube;
let ownerUrl: string;
const controllers: Controller[] = [];
const runners: JobRunner[] = [];

async function credentialsSecret(namespace: string) {
  try {
    return await kube.core.readNamespacedSecret({ namespace, name: DEFAULT_CREDENTIALS_SECRET });
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

async function urlIn(namespace: string): Promise<string> {
  return (await kube.readSecret(namespace, DEFAULT_CREDENTIALS_SECRET)).url;
}

async function count(url: string, sql: string, values: unknown[] = []): Promise<number> {
  return withClient(url, async (c) => Number((await c.query(sql, values)).rows[0].n));
}

async function loginFails(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    return String(error);
  } finally {
    await client.end().catch(() => {});
  }
  throw new Error('logged in with a password that should no longer work');
}

beforeAll(async () => {
  kube = kubeClient();
  ownerUrl = await freshDatabase('e2e_tenants');
  for (const ns of NS) {
    await createNamespace(kube, ns);
    await miniFlowDatabases(kube, ns, 'crm');
    // One controller per namespace (the suite's other files share the API server); both hold the owner credential.
    // The periodic check is slower than any wait below: a prompt re-issue comes from the watch of the Secret.
    controllers.push(await startController(ns, ownerUrl, { credentialsCheckMs: 10 * 60_000 }));
    runners.push(await startJobRunner(ns));
    await kube.create('SyncFlow', flowManifest(ns, 'crm'));
  }
});

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  await Promise.all(runners.map((r) => r.stop()));
});

describe("each namespace's state database credential", () => {
  it('is written by the controller into the namespace, and its Job runs with it', async () => {
    for (const ns of NS) await kube.create('SyncJob', jobManifest(ns, 'first', 'crm'));
    for (const ns of NS) {
      const job = await waitForPhase(kube, ns, 'first', ['Succeeded', 'Failed']);
      expect(job.status?.phase, job.status?.message).toBe('Succeeded');
      const secret = await credentialsSecret(ns);
      expect(secret?.metadata?.labels?.[LABEL_CREDENTIALS]).toBe('state-db');
      const url = new URL(await urlIn(ns));
      expect(decodeURIComponent(url.username)).toBe(secret?.metadata?.annotations?.[ANNOTATION_ROLE]);
      expect(decodeURIComponent(url.username)).toContain(ns);
      expect(url.password).not.toBe(new URL(ownerUrl).password);
    }
    // The runs were written by the namespaces' own roles (the Job pods never had the owner credential).
    const runs = await withClient(ownerUrl, (c) => c.query(`SELECT flow, status FROM ferry.runs ORDER BY flow`));
    expect(runs.rows).toEqual([
      { flow: 'e2e-tenant-a/crm', status: 'Succeeded' },
      { flow: 'e2e-tenant-b/crm', status: 'Succeeded' },
    ]);
  });

  it("cannot read the other namespace's pairs, runs or export archive", async () => {
    const urlA = await urlIn('e2e-tenant-a');
    expect(await count(ownerUrl, `SELECT count(*) AS n FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'e2e-tenant-b/crm'`)).toBeGreaterThan(0);
    expect(await count(urlA, `SELECT count(*) AS n FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'e2e-tenant-a/crm'`)).toBeGreaterThan(0);
    // Every pair it sees is under its own flow's scope (a pair names its flow through its scope).
    expect(await count(urlA, `SELECT count(*) AS n FROM ferry.pairs WHERE scope NOT IN (SELECT id FROM ferry.pair_scopes WHERE flow = 'e2e-tenant-a/crm')`)).toBe(0);
    expect(await count(urlA, `SELECT count(*) AS n FROM ferry.runs WHERE flow = 'e2e-tenant-b/crm'`)).toBe(0);
    expect(await count(urlA, `SELECT count(*) AS n FROM ferry.export_files WHERE flow NOT LIKE 'e2e-tenant-a/%'`)).toBe(0);
    expect(await count(urlA, `SELECT count(*) AS n FROM ferry.export_file_chunks c JOIN ferry.export_files f ON f.id = c.file_id WHERE f.flow NOT LIKE 'e2e-tenant-a/%'`)).toBe(0);
    const scopesOfB = (await withClient(ownerUrl, (c) => c.query(`SELECT id FROM ferry.pair_scopes WHERE flow = 'e2e-tenant-b/crm'`))).rows.map((r) => r.id as number);
    expect(scopesOfB.length).toBeGreaterThan(0);
    await expect(withClient(urlA, (c) => c.query(`DELETE FROM ferry.pairs WHERE scope = ANY($1::int[])`, [scopesOfB]))).resolves.toMatchObject({ rowCount: 0 });
  });

  it('deleting the Secret makes the controller issue it again with a new password; the old one stops working', async () => {
    const ns = 'e2e-tenant-a';
    const before = await urlIn(ns);
    await kube.core.deleteNamespacedSecret({ namespace: ns, name: DEFAULT_CREDENTIALS_SECRET });
    const deletedAt = Date.now();
    const after = await waitFor('the credentials Secret again', async () => {
      const secret = await credentialsSecret(ns);
      return secret ? urlIn(ns) : undefined;
    }, 30_000, 100);
    console.log(`credentials Secret re-issued ${Date.now() - deletedAt} ms after its deletion`);
    expect(new URL(after).password).not.toBe(new URL(before).password);
    expect(await loginFails(before)).toMatch(/password authentication failed/);
    expect(await count(after, `SELECT count(*) AS n FROM ferry.pairs`)).toBeGreaterThan(0);
  });

  it('kubectl ferry rotate-credentials issues a new password on request, and the next Job runs with it', async () => {
    const ns = 'e2e-tenant-b';
    const before = await urlIn(ns);
    const open = new pg.Client({ connectionString: before });
    const ended = new Promise<Error>((resolve) => open.on('error', resolve));
    await open.connect();
    await rotateCredentials(kube.config, ns, DEFAULT_CREDENTIALS_SECRET, { timeoutMs: 60_000, pollMs: 200 });
    const after = await urlIn(ns);
    expect(new URL(after).password).not.toBe(new URL(before).password);
    expect(await loginFails(before)).toMatch(/password authentication failed/);
    // A session opened with the old password does not outlive the rotation.
    expect((await ended).message).toMatch(/terminat/);
    await open.end().catch(() => {});
    await kube.create('SyncJob', jobManifest(ns, 'after-rotation', 'crm', { mode: 'Incremental' }));
    const job = await waitForPhase(kube, ns, 'after-rotation', ['Succeeded', 'Failed']);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
  });

  it('a namespace whose last SyncFlow is deleted loses its Secret and its role; its rows stay', async () => {
    const ns = 'e2e-tenant-a';
    const before = await urlIn(ns);
    const role = decodeURIComponent(new URL(before).username);
    await kube.delete('SyncFlow', ns, 'crm');
    await waitFor('the credentials Secret deleted', async () => (await credentialsSecret(ns)) === undefined, 30_000);
    await waitFor('the role dropped', async () => (await count(ownerUrl, 'SELECT count(*) AS n FROM pg_roles WHERE rolname = $1', [role])) === 0, 30_000);
    expect(await loginFails(before)).toMatch(/password authentication failed|does not exist/);
    expect(await count(ownerUrl, `SELECT count(*) AS n FROM ferry.runs WHERE flow = 'e2e-tenant-a/crm'`)).toBeGreaterThan(0);
    // The other namespace keeps its credential.
    expect(await count(await urlIn('e2e-tenant-b'), 'SELECT count(*) AS n FROM ferry.runs')).toBeGreaterThan(0);
  });
});

describe("the controller's watch of the credentials Secrets", () => {
  it('is allowed by RBAC for that one name, and lists no other Secret', async () => {
    const user = 'e2e-credentials-watcher';
    const role = ['create', 'clusterrole', user, '--verb=list,watch', '--resource=secrets', `--resource-name=${DEFAULT_CREDENTIALS_SECRET}`];
    for (const args of [role, ['create', 'clusterrolebinding', user, `--clusterrole=${user}`, `--user=${user}`]]) {
      const created = await kubectl(args);
      expect(created.status, created.stderr).toBe(0);
    }
    const named = await kubectl(['get', 'secrets', '-A', '--field-selector', `metadata.name=${DEFAULT_CREDENTIALS_SECRET}`, '-o', 'name', `--as=${user}`]);
    expect(named.status, named.stderr).toBe(0);
    expect(named.stdout).toContain(`secret/${DEFAULT_CREDENTIALS_SECRET}`);
    const all = await kubectl(['get', 'secrets', '-A', '-o', 'name', `--as=${user}`]);
    expect(all.status).not.toBe(0);
    expect(all.stderr).toMatch(/forbidden/);
    const other = await kubectl(['get', 'secrets', '-A', '--field-selector', 'metadata.name=crm-source', '-o', 'name', `--as=${user}`]);
    expect(other.stderr).toMatch(/forbidden/);
  });
});
