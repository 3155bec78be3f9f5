import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { ExportTarget } from '../../src/api/exporttarget.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { startLoopbackSftp, type LoopbackSftpServer } from '../../src/export/loopback/sftp-server.js';
import { withClient } from '../helpers/databases.js';
import { freePort } from './harness/kube-apiserver.js';
import { createSecret, flowManifest, holdSourceTable, jobManifest, miniFlowDatabases, namespaceWithStateDb, startController, waitFor, waitForPhase } from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';

const ns = 'e2e-resilience';
let kube: Kube;
let stateUrl: string;
const controllers: Controller[] = [];
let runner: JobRunner;

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_res_state'));
  runner = await startJobRunner(ns);
});

afterAll(async () => {
  for (const c of controllers) await c.stop().catch(() => {});
  await runner?.stop();
});

describe('resilience', () => {
  it('elects one leader of two controllers; the other takes over within the lease duration when it dies', async () => {
    const a = await startController(ns, stateUrl);
    controllers.push(a);
    await waitFor('a leads', async () => a.isLeader);
    const b = await startController(ns, stateUrl);
    controllers.push(b);
    await new Promise((r) => setTimeout(r, 1500));
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);

    const { targetUrl } = await miniFlowDatabases(kube, ns, 'ha');
    await kube.create('SyncFlow', flowManifest(ns, 'ha'));
    await kube.create('SyncJob', jobManifest(ns, 'ha-1', 'ha'));
    expect((await waitForPhase(kube, ns, 'ha-1', ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
    expect(Number((await (await fetch(`http://127.0.0.1:${b.healthPort}/metrics`)).text()).match(/ferry_reconciles_total\{kind="SyncJob",result="success"\} (\d+)/)?.[1] ?? 0)).toBe(0);

    const killedAt = Date.now();
    await a.stop({ release: false }); // a crash: the lease is not released
    await waitFor('b takes over', async () => b.isLeader, 15_000, 100);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(4000 + 2500); // lease duration + one renew period + slack
    const lease = await kube.coordination.readNamespacedLease({ namespace: ns, name: 'ferry-controller' });
    expect(lease.spec?.holderIdentity).toBe(b.identity);
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);

    await kube.create('SyncJob', jobManifest(ns, 'ha-2', 'ha', { mode: 'Incremental' }));
    expect((await waitForPhase(kube, ns, 'ha-2', ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
    expect((await withClient(targetUrl, (c) => c.query('SELECT count(*)::int AS n FROM people'))).rows[0].n).toBe(7);
  });

  it('survives an apiserver restart mid-run: reconnects and completes the run with correct status', async () => {
    const controller = controllers.find((c) => c.isLeader)!;
    const { sourceUrl } = await miniFlowDatabases(kube, ns, 'restart');
    await kube.create('SyncFlow', flowManifest(ns, 'restart'));
    const release = await holdSourceTable(sourceUrl);
    await kube.create('SyncJob', jobManifest(ns, 'restart-1', 'restart'));
    await waitForPhase(kube, ns, 'restart-1', ['Running']);
    const restarted = await fetch(`${inject('kubeControlUrl')}/restart-apiserver?downMs=2000`, { method: 'POST' });
    expect(restarted.status).toBe(200);
    await release();
    const job = await waitForPhase(kube, ns, 'restart-1', ['Succeeded', 'Failed'], 120_000);
    expect(job.status?.phase, job.status?.message).toBe('Succeeded');
    expect(job.status?.summary?.entities?.find((e) => e.name === 'people')).toMatchObject({ read: 7, created: 7 });
    expect(controller.isLeader).toBe(true);
    // New work after the restart is picked up too: the watches came back.
    await kube.create('SyncJob', jobManifest(ns, 'restart-2', 'restart', { mode: 'Incremental' }));
    expect((await waitForPhase(kube, ns, 'restart-2', ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
  });

  it('reports an ExportTarget at a closed port as Unreachable, then Ready once the SFTP server is up', async () => {
    const port = await freePort();
    const { private: hostPrivateKey, public: hostPublicKey } = ssh2.utils.generateKeyPairSync('ed25519');
    await createSecret(kube, ns, 'partner-login', { username: 'ferry', password: 'sftp-pass' });
    const target: ExportTarget = {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'partner', namespace: ns },
      spec: {
        protocol: 'SFTP',
        host: '127.0.0.1',
        port,
        directory: '/inbox',
        credentialsSecretRef: { name: 'partner-login' },
        sftp: { hostKey: hostPublicKey.split(' ').slice(0, 2).join(' ') },
        probeIntervalSeconds: 10,
      },
    };
    await kube.create('ExportTarget', target);
    const down = await waitFor('Unreachable', async () => {
      const t = await kube.get<ExportTarget>('ExportTarget', ns, 'partner');
      return t.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
    });
    expect(down.reason).toBe('Unreachable');

    const root = mkdtempSync(join(tmpdir(), 'ferry-sftp-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'inbox'));
    let sftp: LoopbackSftpServer | undefined;
    let forward: Server | undefined;
    try {
      sftp = await startLoopbackSftp({ root, username: 'ferry', password: 'sftp-pass', hostPrivateKey });
      // The SFTP server comes up on the target's port (forwarded, as the loopback server picks its own port).
      forward = createServer((socket) => {
        const upstream = connect(sftp!.port, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => forward!.listen(port, '127.0.0.1', resolve));
      const up = await waitFor('Ready', async () => {
        const t = await kube.get<ExportTarget>('ExportTarget', ns, 'partner');
        return t.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      }, 30_000);
      expect(up.reason).toBe('Ready');
      expect(up.message).not.toContain('sftp-pass');
    } finally {
      forward?.close();
      await sftp?.close();
    }
  });
});
