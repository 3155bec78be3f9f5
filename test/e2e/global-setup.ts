import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';
import { setup as setupPostgres, teardown as teardownPostgres } from '../helpers/global-setup.js';
import { startKubeApiServer, type KubeApiServer } from './harness/kube-apiserver.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubeUrl: string;
    kubeToken: string;
    /** Bearer tokens of users without any group (RBAC tests): user name -> token. */
    kubeUserTokens: Record<string, string>;
    /** The front-proxy CA the API server's proxy client certificate chains to (its key: tests sign other names). */
    frontProxyCaCert: string;
    frontProxyCaKeyPath: string;
    frontProxyCaCertPath: string;
    /** POST /restart-apiserver?downMs=N restarts the shared kube-apiserver (etcd keeps the data). */
    kubeControlUrl: string;
  }
}

let kube: KubeApiServer | undefined;
// FERRY_E2E_KUBE_LOG=/path keeps the etcd and kube-apiserver output for debugging.
const logFile = process.env.FERRY_E2E_KUBE_LOG;
let control: Server | undefined;

/** Embedded PostgreSQL, a real kube-apiserver with the CRDs, and a control endpoint to restart it. */
export async function setup(project: TestProject): Promise<void> {
  const userTokens = Object.fromEntries(['ferry-e2e-viewer', 'ferry-e2e-editor', 'ferry-e2e-nobody'].map((user) => [user, randomBytes(24).toString('hex')]));
  const users = Object.fromEntries(Object.entries(userTokens).map(([user, token]) => [token, user]));
  const [, started] = await Promise.all([
    setupPostgres(project),
    startKubeApiServer({ users, ...(logFile ? { log: (line) => appendFileSync(logFile, line) } : {}) }),
  ]);
  kube = started;
  project.provide('kubeconfigPath', kube.kubeconfigPath);
  project.provide('kubeUrl', kube.url);
  project.provide('kubeToken', kube.token);
  project.provide('kubeUserTokens', userTokens);
  project.provide('frontProxyCaCert', kube.frontProxy.caCert);
  project.provide('frontProxyCaKeyPath', kube.frontProxy.caKeyPath);
  project.provide('frontProxyCaCertPath', kube.frontProxy.caCertPath);
  control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/restart-apiserver') {
      kube!
        .restart({ downMs: Number(url.searchParams.get('downMs') ?? 1000) })
        .then(() => res.writeHead(200).end('restarted'))
        .catch((error) => res.writeHead(500).end(String(error)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control!.listen(0, '127.0.0.1', resolve));
  project.provide('kubeControlUrl', `http://127.0.0.1:${(control.address() as { port: number }).port}`);
}

export async function teardown(): Promise<void> {
  await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
  await kube?.stop();
  await teardownPostgres();
}
