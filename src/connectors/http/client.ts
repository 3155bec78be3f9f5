import type { Logger } from 'pino';

export interface HttpRetryConfig {
  /** Attempts in all, the first included. Default 5. */
  attempts?: number;
  /** Ceiling of one backoff delay. Default 30 000 ms. */
  maxDelayMs?: number;
  /** First backoff ceiling, doubled per attempt. Default 250 ms. */
  baseDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails as rateLimited at once. Default 120 000 ms. */
  maxRetryAfterMs?: number;
}

export interface HttpClientConfig {
  baseUrl: string;
  /** Extra trusted roots, PEM. */
  caBundle?: string;
  insecureSkipVerify?: boolean;
  auth?: HttpAuth;
  headers?: Record<string, string>;
  /** Per attempt, from connect to the last byte of the response. Default 30 000 ms. */
  timeoutMs?: number;
  /** Requests in flight at once. Default 4. */
  maxInFlight?: number;
  /** Requests started per second, retries included; unlimited when absent. */
  requestsPerSecond?: number;
  retry?: HttpRetryConfig;
}

export type HttpAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'apiKey'; in: 'header' | 'query'; name: string; value: string }
  | {
      kind: 'oauth2';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Space-separated scopes. */
      scope?: string;
      /** How the client authenticates at tokenUrl: HTTP Basic (RFC 6749's preference, the default) or form fields. */
      clientAuth?: 'basic' | 'body';
    };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Relative to baseUrl, or an absolute URL on the same origin (next links). */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
  /** The address answered, secrets masked. */
  url: string;
}

export interface HttpClientStats {
  /** Requests sent to the API, retries included (token requests not). */
  requests: number;
  retries: number;
  byMethod: Record<string, number>;
  /** OAuth2 token requests. */
  tokenRequests: number;
}

export interface HttpClient {
  /** Resolves for 2xx/3xx; throws a classified HttpError otherwise. */
  request(req: HttpRequest): Promise<HttpResponse>;
  stats(): HttpClientStats;
  /** Masks this client's secrets (credentials, tokens, query keys) in any text. */
  redact(text: string): string;
  close(): Promise<void>;
}

export { HttpError, isHttpError, type HttpErrorKind } from './errors.js';

export function createHttpClient(config: HttpClientConfig, logger?: Logger): HttpClient {
  void config;
  void logger;
  throw new Error('createHttpClient: not implemented yet');
}
