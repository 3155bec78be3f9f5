/**
 * `ferry controller` as the pod runs it: the real CLI in a process of its own against the real
 * kube-apiserver. On SIGTERM (a rolling update, a node drain) it hands its Lease back at once and
 * exits 0, so Kubernetes counts the pod as stopped cleanly and a standby leads without waiting out
 * the lease duration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from '../../src/controller/kube.js';
import { ferryInBackground, until } from '../helpers/ferry-process.js';
import { freePort } from './harness/kube-apiserver.js';
import { kubeconfigPath, namespaceWithStateDb } from './fixtures/env.js';

const ns = 'e2e-controller-process';
const leaseName = 'ferry-process-test';
let kube: Kube;
let stateUrl: string;
let controller: ReturnType<typeof ferryInBackground> | undefined;

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_ctlproc_state'));
});

afterAll(() => {
  if (controller?.running()) controller.kill();
});

const leaseHolder = async () => (await kube.coordination.readNamespacedLease({ namespace: ns, name: leaseName }).catch(() => undefined))?.spec?.holderIdentity;

describe('the controller process', () => {
  it('leads, then on SIGTERM releases its Lease and exits 0', async () => {
    const healthPort = await freePort();
    controller = ferryInBackground([
      'controller',
      '--kubeconfig', kubeconfigPath(),
      '--namespace', ns,
      '--state-db-url', stateUrl,
      '--image', 'ferry:e2e',
      '--health-port', String(healthPort),
      '--lease-namespace', ns,
      '--lease-name', leaseName,
    ]);
    await controller.waitFor(/controller started/, 90_000);
    await until(async () => (await leaseHolder()) !== undefined, 30_000);
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);

    const stoppedAt = Date.now();
    controller.stop();
    const ended = await controller.done;
    expect({ code: ended.code, signal: ended.signal }, ended.stderr).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(ended.stderr).toMatch(/shutting down/);
    expect(ended.stderr).toMatch(/released leadership/);
    expect(await leaseHolder()).toBeUndefined();
    expect(ended.stderr).not.toMatch(/postgres(ql)?:\/\/[^\s"]*:[^\s"@]+@/); // no state DB password in the log
  });
});
