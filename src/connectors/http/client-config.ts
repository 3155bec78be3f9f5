import { AUTH_SECRET_KEYS, type HttpEndpoint } from '../../api/http.js';
import { ConfigError } from '../../util/errors.js';
import type { HttpAuth, HttpClientConfig } from './client.js';

/**
 * The secret material of an http system, read from its Secrets by the host (local manifests or the
 * Job's mounted Secrets): the auth Secret's keys and the CA bundle. It travels where a database's
 * connection URL travels, as JSON text, and never reaches a log or report.
 */
export interface HttpCredentials {
  auth?: Record<string, string>;
  ca?: string;
}

export function credentialsText(credentials: HttpCredentials): string {
  return JSON.stringify(credentials);
}

export function parseCredentials(text: string): HttpCredentials {
  if (text === '') return {};
  try {
    return JSON.parse(text) as HttpCredentials;
  } catch {
    throw new ConfigError('the http credentials are not readable (expected the JSON Ferry builds from the Secrets)');
  }
}

function authOf(endpoint: HttpEndpoint, secret: Record<string, string> | undefined, path: string): HttpAuth | undefined {
  const auth = endpoint.auth;
  if (!auth) return undefined;
  const value = (key: string) => {
    const found = secret?.[key];
    if (found === undefined) throw new ConfigError(`${path}.auth.secretRef: Secret "${auth.secretRef.name}" has no key "${key}" (${auth.type} reads ${AUTH_SECRET_KEYS[auth.type].join(', ')})`);
    return found;
  };
  switch (auth.type) {
    case 'Basic':
      return { kind: 'basic', username: value('username'), password: value('password') };
    case 'Bearer':
      return { kind: 'bearer', token: value('token') };
    case 'ApiKey':
      return { kind: 'apiKey', in: auth.apiKey?.in === 'Query' ? 'query' : 'header', name: auth.apiKey?.name ?? 'X-API-Key', value: value('apiKey') };
    case 'OAuth2ClientCredentials':
      return {
        kind: 'oauth2',
        tokenUrl: auth.tokenUrl ?? '',
        clientId: value('clientId'),
        clientSecret: value('clientSecret'),
        ...(auth.scopes?.length ? { scope: auth.scopes.join(' ') } : {}),
      };
  }
}

/** The client settings of one http system; `path` names it in messages (spec.target.http). */
export function clientConfig(endpoint: HttpEndpoint, credentials: HttpCredentials, path: string): HttpClientConfig {
  const auth = authOf(endpoint, credentials.auth, path);
  return {
    baseUrl: endpoint.baseUrl,
    ...(credentials.ca ? { caBundle: credentials.ca } : {}),
    ...(endpoint.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    ...(auth ? { auth } : {}),
    ...(endpoint.headers?.length ? { headers: Object.fromEntries(endpoint.headers.map((h) => [h.name, h.value])) } : {}),
    ...(endpoint.timeouts?.requestSeconds ? { timeoutMs: endpoint.timeouts.requestSeconds * 1000 } : {}),
    ...(endpoint.timeouts?.connectSeconds ? { connectTimeoutMs: endpoint.timeouts.connectSeconds * 1000 } : {}),
    ...(endpoint.limits?.maxInFlight ? { maxInFlight: endpoint.limits.maxInFlight } : {}),
    ...(endpoint.limits?.requestsPerSecond ? { requestsPerSecond: endpoint.limits.requestsPerSecond } : {}),
    ...(endpoint.limits?.retries !== undefined ? { retry: { attempts: endpoint.limits.retries + 1 } } : {}),
  };
}

/** Reads one key of a Secret; `path` names the field that refers to it, for messages. */
export type SecretReader = (ref: { name: string; key: string }, path: string) => string;

/** Gathers an http system's secret material from its Secrets: the auth keys its type reads, and the CA bundle. */
export function gatherCredentials(endpoint: HttpEndpoint, path: string, read: SecretReader): HttpCredentials {
  const credentials: HttpCredentials = {};
  if (endpoint.auth) {
    const { name } = endpoint.auth.secretRef;
    credentials.auth = Object.fromEntries(AUTH_SECRET_KEYS[endpoint.auth.type].map((key) => [key, read({ name, key }, `${path}.auth.secretRef`)]));
  }
  const ca = endpoint.tls?.caSecretRef;
  if (ca) credentials.ca = read({ name: ca.name, key: ca.key ?? CA_SECRET_KEY }, `${path}.tls.caSecretRef`);
  return credentials;
}

export const CA_SECRET_KEY = 'ca.crt';
