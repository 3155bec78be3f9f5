/**
 * Who is asking, as credentials for the API server. The console holds no rights of its own:
 * - `kubeconfig` (kubectl ferry console): the user's own kubeconfig, on 127.0.0.1, and a random
 *   sign-in token in the URL the command opens, kept as a cookie, so other local users cannot use it;
 * - `bearer` (in the cluster): the signed-in user's token that the single-sign-on proxy in front of
 *   the console forwards (oauth2-proxy: `Authorization: Bearer` or `X-Forwarded-Access-Token`), sent on
 *   to the API server, which authenticates it (OIDC) and authorises every request (RBAC).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { closeConnections, withKeptAliveConnections } from './connections.js';
import { constantTimeEqual } from './security.js';

export interface Viewer {
  kubeConfig: KubeConfig;
  /** Stable per signed-in user (CSRF tokens are bound to it); never the credential itself. */
  session: string;
}

export type IdentityMode =
  | { kind: 'kubeconfig'; kubeConfig: KubeConfig; signInToken?: string }
  | { kind: 'bearer'; cluster: { server: string; caData?: string; caFile?: string; skipTLSVerify?: boolean } };

export const SESSION_COOKIE = 'ferry_console';
/** Viewers whose credentials and connections are kept (bearer mode); tokens change at each refresh. */
const MAX_VIEWERS = 1000;

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  const forwarded = req.headers['x-forwarded-access-token'];
  return match?.[1] ?? (typeof forwarded === 'string' && forwarded ? forwarded : undefined);
}

/** A kubeconfig of one cluster and one user with a bearer token. */
export function tokenKubeConfig(cluster: Extract<IdentityMode, { kind: 'bearer' }>['cluster'], token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'cluster', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: cluster.skipTLSVerify ?? false }],
    users: [{ name: 'user', token }],
    contexts: [{ name: 'console', cluster: 'cluster', user: 'user' }],
    currentContext: 'console',
  });
  return config;
}

export class Identity {
  readonly signInToken: string;
  private readonly configs = new Map<string, KubeConfig>();

  constructor(readonly mode: IdentityMode) {
    this.signInToken = mode.kind === 'kubeconfig' ? (mode.signInToken ?? randomBytes(24).toString('base64url')) : '';
    if (mode.kind === 'kubeconfig') withKeptAliveConnections(mode.kubeConfig);
  }

  /** Closes the kept-alive connections to the API server. */
  close(): void {
    if (this.mode.kind === 'kubeconfig') closeConnections(this.mode.kubeConfig);
    for (const config of this.configs.values()) closeConnections(config);
    this.configs.clear();
  }

  /** The viewer of a request, or undefined: then the console shows the sign-in page and no data. */
  viewerOf(req: IncomingMessage): Viewer | undefined {
    if (this.mode.kind === 'kubeconfig') {
      const presented = cookie(req, SESSION_COOKIE);
      if (!presented || !constantTimeEqual(presented, this.signInToken)) return undefined;
      return { kubeConfig: this.mode.kubeConfig, session: `local:${this.signInToken}` };
    }
    const token = bearerToken(req);
    if (!token) return undefined;
    const session = createHash('sha256').update(token).digest('hex');
    let config = this.configs.get(session);
    if (!config) {
      if (this.configs.size >= MAX_VIEWERS) {
        // The least recently signed-in viewer (Map keeps insertion order) gives up its connections.
        const [oldest, oldConfig] = this.configs.entries().next().value as [string, KubeConfig];
        closeConnections(oldConfig);
        this.configs.delete(oldest);
      }
      config = withKeptAliveConnections(tokenKubeConfig(this.mode.cluster, token));
      this.configs.set(session, config);
    }
    return { kubeConfig: config, session };
  }

  /** kubeconfig mode: whether `token` is the sign-in token of the URL the command printed. */
  acceptsSignIn(token: string | null): boolean {
    return this.mode.kind === 'kubeconfig' && token !== null && constantTimeEqual(token, this.signInToken);
  }
}
