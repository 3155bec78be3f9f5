/**
 * The data API (data.ferry.dev) through the real kube-apiserver's aggregation layer and the real
 * kubectl: discovery, server-side printing, filters and paging, RBAC through SubjectAccessReview,
 * TokenReview for bearer tokens, refusal of forged identity headers, and an export run through the
 * controller whose file downloads byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import type { LoopbackSftpServer } from '../../src/export/loopback/sftp-server.js';
import { withClient } from '../helpers/databases.js';
import { T0 } from '../helpers/mini-flow.js';
import { startDataApiFixture, createServingPki, type DataApiFixture } from './fixtures/data-api.js';
import { jobManifest, kubeconfigPath, namespaceWithStateDb, startController, waitForPhase } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';
import { loyaltyExportFlow } from './fixtures/loyalty-export.js';
import { churchWithConflict } from './fixtures/manual-conflict.js';
import { kubectl, kubectlStream } from './fixtures/kubectl.js';

const ns = 'e2e-data';
const SFTP_PASSWORD = 'sftp-secret-pass';
/** Values of the Secrets this test creates: none may appear in a data API response. */
const secretValues: string[] = [];
let kube: Kube;
let stateUrl: string;
let dataApi: DataApiFixture;
let controller: Controller;
let runner: JobRunner;
let sftp: LoopbackSftpServer;
let sftpRoot: string;
let exportRunId = '';

const key = (n: number) => `p${String(n).padStart(19, '0')}`;

/** Pairs of a two-way flow `members` as the engine stores them (keys in the engine's encoding). */
async function seedPairs(url: string): Promise<void> {
  await withClient(url, async (c) => {
    const flow = `${ns}/members`;
    for (let i = 1; i <= 5; i++) {
      await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category, last_synced_at) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'synchronised', $4)`, [flow, key(i), key(5000 + i), T0]);
    }
    await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'conflict')`, [flow, key(7), key(5007)]);
    await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'firms'), $2, $3, 'new')`, [flow, key(1), key(1000)]);
    await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'conflict')`, [`other-ns/members`, key(9), key(9)]);
    await c.query(
      `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, source_value, target_value, source_changed_at, target_changed_at, sensitive, run_id)
       VALUES ($1, 'people', $2, 'email', 'email', 0, 'ann@example.org', 'ann@example.com', $3, $4, false, 'r1'),
              ($1, 'people', $2, 'iban', 'iban', 1, 'DE001', 'DE002', $3, $4, false, 'r1')`,
      [flow, key(7), '2026-02-01T10:00:00Z', '2026-02-01T11:00:00Z'],
    );
    // A flow that has no SyncFlow (deleted): which fields are sensitive is unknown, so all are masked.
    await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'conflict')`, [`${ns}/legacy`, key(1), key(1)]);
    await c.query(
      `INSERT INTO ferry.pair_conflict_fields (flow, entity, source_key, field, target_field, position, source_value, target_value, run_id)
       VALUES ($1, 'people', $2, 'email', 'email', 0, 'old@example.org', 'new@example.org', 'r0')`,
      [`${ns}/legacy`, key(1)],
    );
  });
}

function rbac(): k8s.KubernetesObject[] {
  const rule = (resources: string[]) => ({ apiGroups: ['data.ferry.dev'], resources, verbs: ['get', 'list', 'watch'] });
  const binding = (role: string, user: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${role}-${user}`, namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'e2e-data-view' },
      rules: [rule(['pairs', 'runs', 'exportfiles']), { apiGroups: ['ferry.dev'], resources: ['syncflows', 'syncjobs'], verbs: ['get', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'e2e-data-edit' },
      rules: [
        rule(['pairs', 'runs', 'exportfiles']),
        { apiGroups: ['data.ferry.dev'], resources: ['exportfiles/download', 'pairs/unmasked', 'runs/report'], verbs: ['get'] },
        { apiGroups: ['ferry.dev'], resources: ['syncflows', 'syncjobs'], verbs: ['get', 'list'] },
      ],
    },
    binding('e2e-data-view', 'ferry-e2e-viewer'),
    binding('e2e-data-view', 'alice-viewer'),
    binding('e2e-data-edit', 'bob-editor'),
  ] as k8s.KubernetesObject[];
}

/** A kubeconfig of a token user of the test API server (the plugin has no --as; kubectl passes flags to plugins as they are). */
function kubeconfigAs(user: string): string {
  const token = inject('kubeUserTokens')[user];
  const path = join(mkdtempSync(join(tmpdir(), 'ferry-kubeconfig-')), 'config');
  writeFileSync(path, readFileSync(kubeconfigPath(), 'utf8').replace(/token: .*/, `token: ${token}`), { mode: 0o600 });
  return path;
}

/** A request straight to the data API server, bypassing the API server (what an attacker in the cluster could do). */
function direct(path: string, options: { headers?: Record<string, string>; cert?: { cert: Buffer; key: Buffer } } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: dataApi.port, path, method: 'GET', ca: dataApi.serving.caCert, servername: 'localhost', headers: options.headers, ...(options.cert ?? {}) },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_data_state'));
  dataApi = await startDataApiFixture(kube, kubeconfigPath(), stateUrl);
  await seedPairs(stateUrl);
  // The flow of the seeded pairs: its iban mapping is sensitive (the data API reads that from the SyncFlow).
  await kube.create<SyncFlow>('SyncFlow', {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'members', namespace: ns },
    spec: {
      direction: 'TwoWay',
      source: { postgres: { secretRef: { name: 'members-source' } } },
      target: { postgres: { secretRef: { name: 'members-target' } } },
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
          target: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
          fields: [{ source: 'email', target: 'email' }, { source: 'iban', target: 'iban', sensitive: true }],
          conflictPolicy: 'Manual',
        },
        { name: 'firms', source: { table: 'firms', keys: ['id'] }, target: { table: 'firms', keys: ['id'] }, fields: [{ source: 'name', target: 'name' }] },
      ],
    } as SyncFlow['spec'],
  });
  const objects = k8s.KubernetesObjectApi.makeApiClient(kube.config);
  for (const object of rbac()) await objects.create(object).catch((error) => { if ((error as { code?: number }).code !== 409) throw error; });

  // The export flow: the mini source's people -> CSV -> a real SFTP server (in-process ssh2, pinned host key).
  let sourceUrl: string;
  ({ sourceUrl, sftp, sftpRoot } = await loyaltyExportFlow(kube, ns, {
    databasePrefix: 'e2e_data_src',
    sftpRootPrefix: 'ferry-data-sftp-',
    sftpPassword: SFTP_PASSWORD,
    targets: [{ name: 'partner', directory: '/inbox' }],
  }));
  secretValues.push(SFTP_PASSWORD, sourceUrl, stateUrl, new URL(sourceUrl).password);
  controller = await startController(ns, stateUrl);
  runner = await startJobRunner(ns);
}, 300_000);

afterAll(async () => {
  await controller?.stop();
  await runner?.stop();
  await sftp?.close();
  await dataApi?.stop();
});

describe('data.ferry.dev through the aggregation layer', () => {
  it('kubectl api-resources lists pairs, runs and exportfiles', async () => {
    const result = await kubectl(['api-resources', '--api-group=data.ferry.dev', '-o', 'wide']);
    expect(result.status, result.stderr).toBe(0);
    for (const [name, kind] of [['pairs', 'Pair'], ['runs', 'Run'], ['exportfiles', 'ExportFile']]) {
      expect(result.stdout).toMatch(new RegExp(`^${name}\\s+data.ferry.dev/v1alpha1\\s+true\\s+${kind}\\s+get,list,watch`, 'm'));
    }
  });

  it('kubectl get pairs prints a table, filtered by field selectors and query parameters, paged', async () => {
    const all = await kubectl(['get', 'pairs', '-n', ns]);
    expect(all.status, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+FLOW\s+ENTITY\s+SOURCE KEY\s+TARGET KEY\s+CATEGORY\s+CONFLICTS\s+LAST SYNCED/);
    expect(lines).toHaveLength(1 + 8); // the other namespace's pair is not listed
    expect(all.stdout).toMatch(/^members\.people\.3\s+members\s+people\s+3\s+5003\s+synchronised/m);

    const conflicts = await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'category=conflict']);
    expect(conflicts.status, conflicts.stderr).toBe(0);
    expect(conflicts.stdout.trim().split('\n')).toHaveLength(3);
    // Both values side by side; the sensitive field is masked only for users without pairs/unmasked (the admin here is system:masters).
    expect(conflicts.stdout).toMatch(/members\.people\.7\s+members\s+people\s+7\s+5007\s+conflict\s+email: ann@example.org \| ann@example.com; iban: DE001 \| DE002/);

    const byEntity = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs?entity=firms`]);
    expect(JSON.parse(byEntity.stdout).items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['members.firms.1']);
    const byFlow = await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'flow=members,entity=people', '-o', 'name']);
    expect(byFlow.stdout.trim().split('\n')).toHaveLength(6);
    const none = await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'flow=nope']);
    expect(none.stderr).toContain('No resources found');
    const bad = await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'color=red']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: color');

    // Pages of 2: kubectl follows `continue` and prints every pair once.
    const paged = await kubectl(['get', 'pairs', '-n', ns, '--chunk-size=2', '-o', 'name']);
    expect(paged.stdout.trim().split('\n')).toEqual(all.stdout.trim().split('\n').slice(1).map((l) => `pair.data.ferry.dev/${l.split(/\s+/)[0]}`));
    const page = JSON.parse((await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs?limit=3`])).stdout);
    expect(page.items).toHaveLength(3);
    expect(page.metadata.continue).toBeTruthy();
    const forged = Buffer.from(JSON.stringify({ r: 'pairs', f: {}, p: 'not a position' })).toString('base64url');
    const badToken = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs?limit=3&continue=${forged}`]);
    expect(badToken.status).not.toBe(0);
    expect(badToken.stderr).toMatch(/BadRequest|invalid continue token/);

    const one = await kubectl(['get', 'pair', 'members.people.7', '-n', ns, '-o', 'json']);
    expect(JSON.parse(one.stdout)).toMatchObject({
      kind: 'Pair',
      sourceKey: '7',
      targetKey: '5007',
      category: 'conflict',
      conflict: { fields: [{ field: 'email', sourceValue: 'ann@example.org', targetValue: 'ann@example.com', sourceChangedAt: '2026-02-01T10:00:00.000Z' }, { field: 'iban' }] },
    });
  });

  it('kubectl get pairs -w streams changes from the list it printed on: modified, added, leaving the selection, deleted', async () => {
    const flow = `${ns}/watched`;
    const write = (sql: string, params: unknown[]) => withClient(stateUrl, (c) => c.query(sql, params));
    await write(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'conflict')`, [flow, key(1), key(101)]);
    const watch = kubectlStream(['get', 'pairs', '-n', ns, '--field-selector', 'flow=watched,category=conflict', '-w', '--output-watch-events']);
    try {
      await watch.waitFor(/^ADDED\s+watched\.people\.1\s/m);
      // Written right after the list: the watch starts from the list's resourceVersion, so this is not lost.
      await write(`UPDATE ferry.pairs SET target_key = $2 WHERE scope IN (SELECT id FROM ferry.pair_scopes WHERE flow = $1) AND source_key = $3`, [flow, key(111), key(1)]);
      await watch.waitFor(/^MODIFIED\s+watched\.people\.1\s+watched\s+people\s+1\s+111\s+conflict/m);
      await write(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'conflict')`, [flow, key(2), key(102)]);
      await watch.waitFor(/^ADDED\s+watched\.people\.2\s/m);
      await write(`UPDATE ferry.pairs SET category = 'synchronised' WHERE scope IN (SELECT id FROM ferry.pair_scopes WHERE flow = $1) AND source_key = $2`, [flow, key(1)]);
      await watch.waitFor(/^DELETED\s+watched\.people\.1\s/m);
      await write(`DELETE FROM ferry.pairs WHERE scope IN (SELECT id FROM ferry.pair_scopes WHERE flow = $1)`, [flow]);
      await watch.waitFor(/^DELETED\s+watched\.people\.2\s/m);
      const events = watch.output().trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
      expect(events).toEqual(['ADDED watched.people.1', 'MODIFIED watched.people.1', 'ADDED watched.people.2', 'DELETED watched.people.1', 'DELETED watched.people.2']);
    } finally {
      await watch.stop();
    }

    // A raw watch from "now" ends cleanly at its timeout with a bookmark the client can resume from.
    const raw = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/runs?watch=1&timeoutSeconds=2&allowWatchBookmarks=true`]);
    expect(raw.status, raw.stderr).toBe(0);
    const last = JSON.parse(raw.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Run', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } } });
    const list = JSON.parse((await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs?limit=1`])).stdout);
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('new (unpaired) records: listed, got by name with their suggestions, and watched as they come, refresh and get paired', async () => {
    const flow = `${ns}/window`;
    const write = (sql: string, params: unknown[]) => withClient(stateUrl, (c) => c.query(sql, params));
    // What a two-way run keeps (store/unpaired-records.ts): a record on one side without a partner.
    const sighting = (side: string, stored: string, last: string) =>
      write(
        `INSERT INTO ferry.unpaired_records (flow, entity, side, record_key, match_values, match_tokens, reason, in_scope, run_id)
         VALUES ($1, 'people', $2, $3, ARRAY['ann', $4], ARRAY['0:ann', '1:' || $4], 'unmatched', true, 'r1')`,
        [flow, side, stored, last],
      );
    const name = (side: string, stored: string) => `window.people.new-${side}~${Buffer.from(stored).toString('base64url')}`;
    const ann = name('source', key(1));
    await sighting('source', key(1), 'lee');
    await sighting('target', key(5001), 'lee');

    const one = await kubectl(['get', 'pair', ann, '-n', ns, '-o', 'json']);
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({
      metadata: { name: ann },
      sourceKey: '1',
      targetKey: '',
      category: 'new',
      unpaired: { side: 'source', reason: 'unmatched', suggestions: [{ key: '5001', agreeing: [{ source: 'match[0]' }, { source: 'match[1]' }] }] },
    });
    const missing = await kubectl(['get', 'pair', name('source', key(99)), '-n', ns]);
    expect(missing.stderr).toMatch(/NotFound/);

    const watch = kubectlStream(['get', 'pairs', '-n', ns, '--field-selector', 'flow=window,category=new', '-w', '--output-watch-events']);
    const shown = (event: string, objectName: string) => new RegExp(`^${event}\\s+${objectName.replace(/[.~-]/g, (c) => `\\${c}`)}\\s`, 'm');
    try {
      await watch.waitFor(shown('ADDED', name('target', key(5001))));
      await sighting('source', key(2), 'fox');
      await watch.waitFor(shown('ADDED', name('source', key(2))));
      // A later run sees Ann again: the same object, refreshed.
      await write(`UPDATE ferry.unpaired_records SET run_id = 'r2', seen_at = now() WHERE flow = $1 AND record_key = $2`, [flow, key(1)]);
      await watch.waitFor(shown('MODIFIED', ann));
      // Linked: both records leave category new, their pair (synchronised) is not in this selection.
      await withClient(stateUrl, async (c) => {
        await c.query('BEGIN');
        await c.query(`DELETE FROM ferry.unpaired_records WHERE flow = $1 AND record_key = ANY($2::text[])`, [flow, [key(1), key(5001)]]);
        await c.query(`INSERT INTO ferry.pairs (scope, source_key, target_key, category) VALUES (ferry.pair_scope($1, 'people'), $2, $3, 'synchronised')`, [flow, key(1), key(5001)]);
        await c.query('COMMIT');
      });
      await watch.waitFor(shown('DELETED', name('target', key(5001))));
      await watch.waitFor(shown('DELETED', ann));
      const events = watch.output().trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
      expect(events.slice(0, 4)).toEqual([`ADDED ${ann}`, `ADDED ${name('target', key(5001))}`, `ADDED ${name('source', key(2))}`, `MODIFIED ${ann}`]);
      expect(events.slice(4).sort()).toEqual([`DELETED ${ann}`, `DELETED ${name('target', key(5001))}`].sort());
    } finally {
      await watch.stop();
    }
    const left = await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'flow=window,category=new', '-o', 'name']);
    expect(left.stdout.trim().split('\n')).toEqual([`pair.data.ferry.dev/${name('source', key(2))}`]);
    // The tests after this one count the namespace's pairs: take back what this one wrote.
    await write(`DELETE FROM ferry.pairs WHERE scope IN (SELECT id FROM ferry.pair_scopes WHERE flow = $1) AND source_key = $2`, [flow, key(1)]);
    await write(`DELETE FROM ferry.unpaired_records WHERE flow = $1`, [flow]);
  });

  it('an export SyncJob through the controller ends with per-destination outcomes, in status, kubectl ferry runs and exportfiles', async () => {
    await kube.create('SyncJob', jobManifest(ns, 'loyalty-1', 'loyalty', { mode: 'Full' }));
    const job = await waitForPhase(kube, ns, 'loyalty-1', ['Succeeded', 'Failed'], 150_000);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(job.status?.summary?.transfers).toEqual([{ target: 'partner', state: 'Succeeded', bytes: expect.any(Number), message: '1 file transferred' }]);
    exportRunId = job.status!.runId!;

    const runs = await kubectl(['ferry', 'runs', 'loyalty', '-n', ns]);
    expect(runs.status, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/loyalty-1\s+Full\s+Succeeded.*partner: Succeeded/);

    const files = await kubectl(['get', 'exportfiles', '-n', ns, '--field-selector', `run=${exportRunId}`]);
    expect(files.status, files.stderr).toBe(0);
    expect(files.stdout).toMatch(/loyalty\s+people_001\.csv\.gz\s+2\s+\d+\s+partner: transferred/);

    const dataRuns = await kubectl(['get', 'runs', '-n', ns, '--field-selector', 'flow=loyalty']);
    expect(dataRuns.stdout).toMatch(new RegExp(`${exportRunId.replace(/\./g, '\\.')}\\s+loyalty\\s+Full\\s+Succeeded\\s+2`));
    const report = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/runs/${exportRunId}/report?format=text`]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain(`run ${exportRunId}`);
  });

  it('downloads the archived file byte for byte with its SHA-256', async () => {
    const list = JSON.parse((await kubectl(['get', 'exportfiles', '-n', ns, '--field-selector', `run=${exportRunId}`, '-o', 'json'])).stdout);
    const file = list.items[0];
    const download = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/exportfiles/${file.metadata.name}/download`]);
    expect(download.status, download.stderr).toBe(0);
    const uploaded = readFileSync(join(sftpRoot, 'inbox', readdirSync(join(sftpRoot, 'inbox')).find((f) => f === file.fileName)!));
    expect(download.bytes.equals(uploaded)).toBe(true);
    expect(createHash('sha256').update(download.bytes).digest('hex')).toBe(file.sha256);
  });
});

describe('kubectl explain', () => {
  it('reads the field descriptions from the OpenAPI v2 document the aggregator merged (1.20 has no /openapi/v3: kubectl falls back to v2)', async () => {
    // The aggregator fetches /openapi/v2 as system:aggregator in the background; until it has, explain cannot find the kind.
    let explained = await kubectl(['explain', 'pairs.conflict.fields']);
    for (let i = 0; i < 60 && explained.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      explained = await kubectl(['explain', 'pairs.conflict.fields']);
    }
    expect(explained.status, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/KIND:\s+Pair/);
    expect(explained.stdout).toMatch(/sourceValue\s+<string>\s+Value in the source system/);
    const pairs = await kubectl(['explain', 'pairs']);
    expect(pairs.stdout).toMatch(/category\s+<string> -required-\s+State of the pair\./);
    const runs = await kubectl(['explain', 'runs', '--recursive']);
    expect(runs.status, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/counters\s+<map\[string\]integer>/);
    const transfers = await kubectl(['explain', 'exportfiles.transfers.status']);
    expect(transfers.stdout).toContain('pending, transferring, transferred or failed.');
  });

  it('reads /openapi/v3 when the server has it, as through a 1.27+ aggregator (kubectl straight at the data API)', async () => {
    // 1.20 does not proxy /openapi/v3, so kubectl talks to the data API itself here, with a viewer's token (TokenReview, SAR).
    const config = join(mkdtempSync(join(tmpdir(), 'ferry-kubeconfig-direct-')), 'config');
    writeFileSync(config, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'data-api', cluster: { server: `https://127.0.0.1:${dataApi.port}`, 'certificate-authority-data': Buffer.from(dataApi.serving.caCert).toString('base64') } }],
      users: [{ name: 'viewer', user: { token: inject('kubeUserTokens')['ferry-e2e-viewer'] } }],
      contexts: [{ name: 'direct', context: { cluster: 'data-api', user: 'viewer' } }],
      'current-context': 'direct',
    }), { mode: 0o600 });
    const explained = await kubectl(['explain', 'pairs.conflict.fields', '-v=6'], { env: { KUBECONFIG: config } });
    expect(explained.status, explained.stderr).toBe(0);
    expect(explained.stderr).toMatch(/url="https:\/\/127\.0\.0\.1:\d+\/openapi\/v3\/apis\/data\.ferry\.dev\/v1alpha1\?hash=[0-9A-F]+&timeout=\d+s" status="200 OK"/);
    expect(explained.stderr).not.toContain('/openapi/v2');
    // The v3 renderer names the group, which the v2 one does not.
    expect(explained.stdout).toMatch(/GROUP:\s+data\.ferry\.dev/);
    expect(explained.stdout).toMatch(/sourceValue\s+<string>\s+Value in the source system/);
  });
});

describe('data.ferry.dev security', () => {
  const resources = ['pairs', 'runs', 'exportfiles'];

  it('a user without rights gets 403 for each resource', async () => {
    for (const resource of resources) {
      const result = await kubectl(['get', resource, '-n', ns, '--as', 'mallory']);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`Error from server \\(Forbidden\\): ${resource}\\.data\\.ferry\\.dev is forbidden: User "mallory" cannot list resource "${resource}"`));
    }
  });

  it('a viewer lists but sees sensitive values masked and cannot download or unmask; an editor can', async () => {
    const viewer = JSON.parse((await kubectl(['get', 'pair', 'members.people.7', '-n', ns, '--as', 'alice-viewer', '-o', 'json'])).stdout);
    expect(viewer.conflict.fields).toEqual([
      expect.objectContaining({ field: 'email', sourceValue: 'ann@example.org', targetValue: 'ann@example.com' }),
      expect.objectContaining({ field: 'iban', sourceValue: '******', targetValue: '******', masked: true }),
    ]);
    const viewerList = await kubectl(['get', 'pairs', '-n', ns, '--as', 'alice-viewer', '--field-selector', 'category=conflict']);
    expect(viewerList.stdout).not.toContain('DE001');
    // The flow of this pair is gone: its values are masked, since nobody can say which are sensitive.
    expect(viewerList.stdout).toMatch(/legacy\.people\.1\s+legacy\s+people\s+1\s+1\s+conflict\s+email: \*{6} \| \*{6}/);
    const unmask = await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs/members.people.7/unmasked`, '--as', 'alice-viewer']);
    expect(unmask.stderr).toMatch(/Forbidden/);
    const files = JSON.parse((await kubectl(['get', 'exportfiles', '-n', ns, '-o', 'json'])).stdout);
    const download = `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/exportfiles/${files.items[0].metadata.name}/download`;
    expect((await kubectl(['get', '--raw', download, '--as', 'alice-viewer'])).stderr).toMatch(/Forbidden/);

    const editor = JSON.parse((await kubectl(['get', 'pair', 'members.people.7', '-n', ns, '--as', 'bob-editor', '-o', 'json'])).stdout);
    expect(editor.conflict.fields[1]).toMatchObject({ field: 'iban', sourceValue: 'DE001', targetValue: 'DE002' });
    expect(editor.conflict.fields[1].masked).toBeUndefined();
    expect((await kubectl(['get', '--raw', download, '--as', 'bob-editor'])).status).toBe(0);
  });

  it('refuses forged identity headers without a valid front-proxy certificate, and checks bearer tokens by TokenReview', async () => {
    const path = `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/pairs`;
    const forged = { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' };
    const noCert = await direct(path, { headers: forged });
    expect(noCert.status).toBe(401);
    expect(noCert.body).not.toContain('ann@example');

    // A client certificate from another CA, with the allowed common name, is no better.
    const rogue = createServingPki(mkdtempSync(join(tmpdir(), 'ferry-rogue-')), 'front-proxy-client', 'x');
    const rogueCert = await direct(path, { headers: forged, cert: { cert: readFileSync(rogue.certPath), key: readFileSync(rogue.keyPath) } });
    expect(rogueCert.status).toBe(401);

    // Signed by the right CA, but not with the name the API server's proxy certificate has (--requestheader-allowed-names).
    const otherDir = mkdtempSync(join(tmpdir(), 'ferry-other-name-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=some-other-client', '-keyout', join(otherDir, 'c.key'), '-out', join(otherDir, 'c.csr'));
    writeFileSync(join(otherDir, 'c.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', join(otherDir, 'c.csr'), '-CA', inject('frontProxyCaCertPath'), '-CAkey', inject('frontProxyCaKeyPath'), '-CAcreateserial',
      '-CAserial', join(otherDir, 'ca.srl'), '-days', '1', '-extfile', join(otherDir, 'c.ext'), '-out', join(otherDir, 'c.crt'));
    const otherName = await direct(path, { headers: forged, cert: { cert: readFileSync(join(otherDir, 'c.crt')), key: readFileSync(join(otherDir, 'c.key')) } });
    expect(otherName.status).toBe(401);
    expect(otherName.body).toContain('is not an allowed front-proxy name');

    const tokens = inject('kubeUserTokens');
    const asViewer = await direct(path, { headers: { authorization: `Bearer ${tokens['ferry-e2e-viewer']}`, ...forged } });
    expect(asViewer.status, asViewer.body).toBe(200);
    const listed = JSON.parse(asViewer.body);
    expect(listed.items.length).toBe(8);
    expect(JSON.stringify(listed)).not.toContain('DE001'); // the forged system:masters group did not count
    const asNobody = await direct(path, { headers: { authorization: `Bearer ${tokens['ferry-e2e-nobody']}` } });
    expect(asNobody.status).toBe(403);
    expect(JSON.parse(asNobody.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    const badToken = await direct(path, { headers: { authorization: 'Bearer not-a-token' } });
    expect(badToken.status).toBe(401);
    expect((await direct('/healthz')).status).toBe(200);
  });

  it('no secret value appears in any response', async () => {
    const bodies: string[] = [];
    for (const resource of resources) bodies.push((await kubectl(['get', resource, '-A', '-o', 'json'])).stdout);
    bodies.push((await kubectl(['get', '--raw', `/apis/data.ferry.dev/v1alpha1/namespaces/${ns}/runs/${exportRunId}/report`])).stdout);
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(0);
      for (const secret of secretValues.filter((v) => v.length >= 6)) expect(body).not.toContain(secret);
    }
  });
});

describe('a Manual-conflict two-way flow through the controller, seen and resolved through the data API', () => {
  let church: string;
  let accounts: string;
  let run = 0;
  const sync = async () => {
    const name = `church-${++run}`;
    await kube.create('SyncJob', jobManifest(ns, name, 'church', { mode: 'Full' }));
    const job = await waitForPhase(kube, ns, name, ['Succeeded', 'Failed'], 150_000);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
  };
  const row = async (url: string, sql: string) => withClient(url, async (c) => (await c.query(sql)).rows[0]);

  beforeAll(async () => {
    ({ church, accounts } = await churchWithConflict(kube, ns, sync));
  }, 400_000);

  it('the run records each differing field with both values and change times; kubectl ferry conflicts shows them side by side', async () => {
    const pairs = JSON.parse((await kubectl(['get', 'pairs', '-n', ns, '--field-selector', 'flow=church,category=conflict', '-o', 'json'])).stdout);
    expect(pairs.items).toHaveLength(1);
    const [pair] = pairs.items;
    expect(pair).toMatchObject({ flow: 'church', entity: 'people', sourceKey: '1', targetKey: '5000', category: 'conflict' });
    expect(pair.conflict.fields).toEqual([
      expect.objectContaining({ field: 'email', targetField: 'mail', sourceValue: 'ann@church.example', targetValue: 'ann@accounts.example' }),
      expect.objectContaining({ field: 'status', targetField: 'category', sourceValue: 'Elder', targetValue: 'Donor' }),
    ]);
    const churchChanged = (await row(church, `SELECT updated_at FROM people`)).updated_at as Date;
    expect(Math.abs(new Date(pair.conflict.fields[0].sourceChangedAt).getTime() - churchChanged.getTime())).toBeLessThan(1000);

    const shown = await kubectl(['ferry', 'conflicts', 'church', '-n', ns]);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/people 1 ↔ 5000/);
    expect(shown.stdout).toMatch(/email → mail\s+ann@church\.example\s+ann@accounts\.example/);
    expect(shown.stdout).toMatch(/status → category\s+Elder\s+Donor/);
    // A viewer sees the sensitive field masked, in the plugin too.
    const asViewer = await kubectl(['ferry', 'conflicts', 'church', '-n', ns], { env: { KUBECONFIG: kubeconfigAs('ferry-e2e-viewer') } });
    expect(asViewer.stdout).toMatch(/status → category\s+\*{6}\s+\*{6}/);
    expect(asViewer.stdout).not.toContain('Elder');
  });

  it('kubectl ferry resolve --keep picks a value per field; the pair becomes synchronised with those values on both sides', async () => {
    const resolved = await kubectl(['ferry', 'resolve', 'church', '-n', ns, '--entity', 'people', '--source-key', '1', '--keep', 'email=source,status=target', '--wait', '--timeout', '150s']);
    expect(resolved.status, `${resolved.stdout}\n${resolved.stderr}`).toBe(0);
    expect(await row(church, `SELECT email, status FROM people`)).toEqual({ email: 'ann@church.example', status: 'Donor' });
    expect(await row(accounts, `SELECT mail, category FROM persons`)).toEqual({ mail: 'ann@church.example', category: 'Donor' });
    const pair = JSON.parse((await kubectl(['get', 'pair', 'church.people.1', '-n', ns, '-o', 'json'])).stdout);
    expect(pair.category).toBe('synchronised');
    expect(pair.conflict).toBeUndefined();
    expect(await row(stateUrl, `SELECT count(*)::int AS n FROM ferry.pair_conflict_fields WHERE flow = '${ns}/church'`)).toEqual({ n: 0 });
  });
});

describe('kubectl ferry download', () => {
  it('writes the export file of a SyncJob, byte-identical to what the SFTP server received, after checking its SHA-256', async () => {
    const target = join(mkdtempSync(join(tmpdir(), 'ferry-download-')), 'people.csv.gz');
    const result = await kubectl(['ferry', 'download', 'loyalty-1', '-n', ns, '-o', target]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/wrote .*people\.csv\.gz: people_001\.csv\.gz, \d+ bytes, sha256 [0-9a-f]{64} \(verified\)/);
    expect(readFileSync(target).equals(readFileSync(join(sftpRoot, 'inbox', 'people_001.csv.gz')))).toBe(true);
    const viewer = await kubectl(['ferry', 'download', 'loyalty-1', '-n', ns, '-o', `${target}.2`], { env: { KUBECONFIG: kubeconfigAs('ferry-e2e-viewer') } });
    expect(viewer.status).not.toBe(0);
    expect(viewer.stderr).toMatch(/forbidden/i);

    // --as / --as-group, as with kubectl: the API server proxies as that user, whose rights decide.
    const impersonatedViewer = await kubectl(['ferry', 'download', 'loyalty-1', '-n', ns, '-o', `${target}.3`, '--as', 'alice-viewer']);
    expect(impersonatedViewer.status).not.toBe(0);
    expect(impersonatedViewer.stderr).toMatch(/forbidden.*alice-viewer/i);
    const impersonatedEditor = await kubectl(['ferry', 'download', 'loyalty-1', '-n', ns, '-o', `${target}.4`, '--as', 'bob-editor', '--as-group', 'system:authenticated']);
    expect(impersonatedEditor.status, impersonatedEditor.stderr).toBe(0);
    expect(readFileSync(`${target}.4`).equals(readFileSync(target))).toBe(true);
    const runsAsNobody = await kubectl(['ferry', 'runs', 'loyalty', '-n', ns, '--as', 'mallory']);
    expect(runsAsNobody.status).not.toBe(0);
    expect(runsAsNobody.stderr).toMatch(/mallory/);
  });
});
