/**
 * What makes the console's first page cheap: one rules review instead of one access review per
 * button, kept-alive connections per viewer instead of a TLS handshake per request, and the API
 * server's own paging of the flows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { rulesAllow } from '../../../src/console/cluster.js';
import { closeConnections, withKeptAliveConnections } from '../../../src/console/connections.js';
import { tokenKubeConfig } from '../../../src/console/identity.js';
import { flowsPage } from '../../../src/console/pages/flows.js';
import { createServingPki } from '../../e2e/fixtures/data-api.js';

describe('rights from a SelfSubjectRulesReview', () => {
  const startRuns = { verb: 'create', group: 'ferry.dev', resource: 'syncjobs' };
  const download = { verb: 'get', group: 'data.ferry.dev', resource: 'exportfiles', subresource: 'download' };

  it('grants what a rule names, and nothing a viewer rule does not', () => {
    const viewer = [
      { verbs: ['get', 'list', 'watch'], apiGroups: ['ferry.dev'], resources: ['syncflows', 'syncjobs'] },
      { verbs: ['get', 'list'], apiGroups: ['data.ferry.dev'], resources: ['pairs', 'runs', 'exportfiles'] },
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'] },
    ];
    expect(rulesAllow(viewer, startRuns)).toBe(false);
    expect(rulesAllow(viewer, download)).toBe(false);
    const editor = [...viewer, { verbs: ['create'], apiGroups: ['ferry.dev'], resources: ['syncjobs'] }, { verbs: ['get'], apiGroups: ['data.ferry.dev'], resources: ['exportfiles/download'] }];
    expect(rulesAllow(editor, startRuns)).toBe(true);
    expect(rulesAllow(editor, download)).toBe(true);
  });

  it("follows RBAC's wildcards for verbs, groups, resources and subresources", () => {
    expect(rulesAllow([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], download)).toBe(true);
    expect(rulesAllow([{ verbs: ['get'], apiGroups: ['data.ferry.dev'], resources: ['exportfiles/*'] }], download)).toBe(true);
    expect(rulesAllow([{ verbs: ['get'], apiGroups: ['data.ferry.dev'], resources: ['*/download'] }], download)).toBe(true);
    expect(rulesAllow([{ verbs: ['*'], apiGroups: ['ferry.dev'], resources: ['syncjobs/status'] }], startRuns)).toBe(false);
    expect(rulesAllow([{ verbs: ['create'], apiGroups: ['other.dev'], resources: ['syncjobs'] }], startRuns)).toBe(false);
    // The object itself does not grant its subresource.
    expect(rulesAllow([{ verbs: ['get'], apiGroups: ['data.ferry.dev'], resources: ['exportfiles'] }], download)).toBe(false);
  });
});

describe('kept-alive connections per viewer', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  let ca: string;
  let connections = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-console-tls-'));
    const pki = createServingPki(dir);
    ca = pki.caCert;
    server = https.createServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlowList', metadata: {}, items: [], seenToken: req.headers.authorization }));
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const listSixTimes = async (config: ReturnType<typeof tokenKubeConfig>) => {
    const api = config.makeApiClient(CustomObjectsApi);
    const before = connections;
    for (let i = 0; i < 6; i++) {
      const list = (await api.listNamespacedCustomObject({ group: 'ferry.dev', version: 'v1alpha1', namespace: 'default', plural: 'syncflows' })) as { seenToken: string };
      expect(list.seenToken).toBe('Bearer alice-token');
    }
    return connections - before;
  };

  it('the Kubernetes client alone opens a TLS connection per request; the console reuses them, still verifying the server', async () => {
    const cluster = { server: url, caData: Buffer.from(ca).toString('base64') };
    expect(await listSixTimes(tokenKubeConfig(cluster, 'alice-token'))).toBe(6);
    const pooled = withKeptAliveConnections(tokenKubeConfig(cluster, 'alice-token'));
    // undici may open a second connection while the first response's body is still being released.
    expect(await listSixTimes(pooled)).toBeLessThanOrEqual(2);
    closeConnections(pooled);
    // Without the CA the server's certificate is refused, pooled or not.
    await expect(listSixTimes(withKeptAliveConnections(tokenKubeConfig({ server: url }, 'alice-token')))).rejects.toThrow();
  });
});

describe('the Flows pager', () => {
  const flow = (name: string) => ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name, namespace: 'shop' }, spec: { direction: 'OneWay', entities: [] } }) as unknown as SyncFlow;
  const base = { actives: new Map(), access: { startRuns: false, editFlows: false, download: false }, csrf: 't', namespace: 'shop', now: new Date('2026-11-30T12:00:00Z'), search: '' };

  it("follows the API server's continue token without a search, and page numbers with one", () => {
    const first = flowsPage({ ...base, flows: [flow('a')], page: 1, total: 200, next: 'tok/1+' }).text;
    expect(first).toContain('200 flows, page 1 of 10.');
    expect(first).toContain('href="/?ns=shop&#38;page=2&#38;continue=tok%2F1%2B"');
    expect(first).not.toContain('Previous page');
    const last = flowsPage({ ...base, flows: [flow('z')], page: 10, total: 200 }).text;
    expect(last).toContain('First page');
    expect(last).not.toContain('Next page');
    const searched = flowsPage({ ...base, flows: [flow('a')], page: 2, total: 45, search: 'a' }).text;
    expect(searched).toContain('href="/?ns=shop&#38;q=a&#38;page=1"');
    expect(searched).toContain('href="/?ns=shop&#38;q=a&#38;page=3"');
  });
});
