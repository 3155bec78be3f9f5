/** Starting the console: on the user's machine with their kubeconfig, or in the cluster behind a sign-in proxy. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ConsoleServer } from './server.js';

export interface RunningConsole {
  port: number;
  /** The address to open: in kubeconfig mode it carries the sign-in token. */
  url: string;
  server: ConsoleServer;
  stop(): Promise<void>;
}

export interface LocalConsoleOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  port: number;
  logger: Logger;
}

/** `kubectl ferry console`: 127.0.0.1 only, the user's kubeconfig, a one-time sign-in link. */
export async function startLocalConsole(options: LocalConsoleOptions): Promise<RunningConsole> {
  const server = new ConsoleServer({ identity: { kind: 'kubeconfig', kubeConfig: options.kubeConfig }, defaultNamespace: options.namespace, logger: options.logger });
  const port = await server.listen(options.port, '127.0.0.1');
  return { port, url: `http://127.0.0.1:${port}/signin?token=${server.signInToken}`, server, stop: () => server.close() };
}

export interface ClusterConsoleOptions {
  /** The API server and the CA that signs its certificate. */
  cluster: { server: string; caFile?: string; caData?: string; skipTLSVerify?: boolean };
  namespace: string;
  port: number;
  host: string;
  logger: Logger;
  signInUrl?: string;
}

const SERVICE_ACCOUNT_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/** The API server as a pod sees it (no token needed: the console never uses one of its own). */
export function inClusterApiServer(caFile?: string): ClusterConsoleOptions['cluster'] {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST is not set (pass --server)');
  const ca = caFile ?? (existsSync(SERVICE_ACCOUNT_CA) ? SERVICE_ACCOUNT_CA : undefined);
  return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, ...(ca ? { caFile: ca } : {}) };
}

/** In the cluster: each request carries the signed-in user's bearer token from the sign-in proxy. */
export async function startClusterConsole(options: ClusterConsoleOptions): Promise<RunningConsole> {
  const server = new ConsoleServer({ identity: { kind: 'bearer', cluster: options.cluster }, defaultNamespace: options.namespace, logger: options.logger, signInUrl: options.signInUrl });
  const port = await server.listen(options.port, options.host);
  return { port, url: `http://${options.host}:${port}/`, server, stop: () => server.close() };
}

/** Opens a URL in the desktop's browser, as `linkerd viz dashboard` does; silent when there is none. */
export function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    /* no browser: the URL is printed */
  }
}
