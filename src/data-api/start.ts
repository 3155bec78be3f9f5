import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { openStateStore } from '../store/db.js';
import { tokenReviewer } from './authn.js';
import { sarAuthorizer } from './authz.js';
import { readRequestHeaderConfig } from './delegation.js';
import { DataApiServer } from './server.js';
import { syncFlowSensitivity } from './sensitivity.js';

export interface DataApiProcessOptions {
  kubeconfig: k8s.KubeConfig;
  stateDbUrl: string;
  certFile: string;
  keyFile: string;
  port: number;
  host?: string;
  logger: Logger;
  /** How often the front-proxy CA and the serving certificate are re-read (rotation). */
  refreshMs?: number;
}

export interface RunningDataApi {
  port: number;
  server: DataApiServer;
  stop(): Promise<void>;
}

/** `ferry data-api`: reads the API server's front-proxy settings and serves data.ferry.dev until stopped. */
export async function startDataApi(options: DataApiProcessOptions): Promise<RunningDataApi> {
  const readTls = async () => ({ cert: await readFile(options.certFile), key: await readFile(options.keyFile) });
  const [requestHeader, tls] = await Promise.all([readRequestHeaderConfig(options.kubeconfig), readTls()]);
  const store = await openStateStore(options.stateDbUrl, { max: 8 });
  const server = new DataApiServer({
    pool: store.pool,
    tls,
    requestHeader,
    reviewToken: tokenReviewer(options.kubeconfig),
    authorize: sarAuthorizer(options.kubeconfig),
    sensitivity: syncFlowSensitivity(options.kubeconfig),
    logger: options.logger,
  });
  const port = await server.listen(options.port, options.host);
  options.logger.info({ port }, 'data API (data.ferry.dev/v1alpha1) listening');
  const refresh = setInterval(() => {
    Promise.all([readRequestHeaderConfig(options.kubeconfig), readTls()])
      .then(([config, current]) => server.update(config, current))
      .catch((error) => options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not refresh the front-proxy CA or the serving certificate'));
  }, options.refreshMs ?? 5 * 60_000);
  refresh.unref();
  return {
    port,
    server,
    stop: async () => {
      clearInterval(refresh);
      await server.close();
      await store.close();
    },
  };
}
