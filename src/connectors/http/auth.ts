import { redactUrl } from '../../util/redact.js';
import type { HttpAuth } from './client.js';
import { HttpError } from './errors.js';
import type { RawResponse } from './transport.js';

/** Sends the token request; the client supplies it so TLS settings and timeouts are the same. */
export type TokenPost = (url: URL, headers: Record<string, string>, body: Buffer) => Promise<RawResponse>;

export interface Authorizer {
  /** Adds the credentials to a request; returns the OAuth2 token used, if any. */
  apply(url: URL, headers: Record<string, string>): Promise<string | undefined>;
  /** After a 401 on a request made with `usedToken`: drops that token; true when a new one is worth a retry. */
  renewAfterUnauthorized(usedToken: string | undefined): boolean;
  /** Every secret value this authorizer has handled, for masking. */
  secrets(): string[];
  /** The query parameter that carries an API key, whose value must be masked wherever a URL is shown. */
  readonly queryKeyName?: string;
}

// Renew this long before the server's expiry, so a token does not lapse in flight.
const EXPIRY_MARGIN_MS = 30_000;

export function createAuthorizer(auth: HttpAuth | undefined, postToken: TokenPost, onTokenRequest: () => void): Authorizer {
  if (!auth) return { apply: async () => undefined, renewAfterUnauthorized: () => false, secrets: () => [] };
  switch (auth.kind) {
    case 'basic': {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      return {
        apply: async (_url, headers) => void (headers.authorization = `Basic ${encoded}`),
        renewAfterUnauthorized: () => false,
        secrets: () => [auth.password, encoded],
      };
    }
    case 'bearer':
      return {
        apply: async (_url, headers) => void (headers.authorization = `Bearer ${auth.token}`),
        renewAfterUnauthorized: () => false,
        secrets: () => [auth.token],
      };
    case 'apiKey':
      return {
        apply: async (url, headers) => {
          if (auth.in === 'header') headers[auth.name.toLowerCase()] = auth.value;
          else url.searchParams.set(auth.name, auth.value);
          return undefined;
        },
        renewAfterUnauthorized: () => false,
        secrets: () => [auth.value, encodeURIComponent(auth.value)],
        queryKeyName: auth.in === 'query' ? auth.name : undefined,
      };
    case 'oauth2':
      return oauth2ClientCredentials(auth, postToken, onTokenRequest);
  }
}

function oauth2ClientCredentials(auth: Extract<HttpAuth, { kind: 'oauth2' }>, postToken: TokenPost, onTokenRequest: () => void): Authorizer {
  let current: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const issued = new Set<string>();
  const clientBasic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');

  async function fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (auth.clientAuth === 'body') {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      headers.authorization = `Basic ${clientBasic}`;
    }
    onTokenRequest();
    const url = new URL(auth.tokenUrl);
    const response = await postToken(url, headers, Buffer.from(form.toString()));
    const where = `token request to ${redactUrl(auth.tokenUrl)}`;
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(response.body.toString('utf8')) as typeof body;
    } catch {
      // classified below by status
    }
    if (response.status >= 200 && response.status < 300 && typeof body.access_token === 'string') {
      const token = body.access_token;
      issued.add(token);
      const lifetime = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 3_600_000;
      current = { token, expiresAt: Date.now() + Math.max(lifetime - EXPIRY_MARGIN_MS, lifetime / 2) };
      return token;
    }
    const reason = [body.error, body.error_description].filter((part) => typeof part === 'string').join(': ');
    const transient = response.status === 429 || response.status >= 500;
    const kind = transient ? (response.status === 429 ? 'rateLimited' : 'unavailable') : response.status < 300 ? 'malformed' : 'auth';
    const said = reason ? ` (${reason})` : '';
    const what = kind === 'malformed' ? 'answered without an access_token' : `refused with ${response.status}${said}`;
    throw new HttpError(`${where} ${what}`, { kind, method: 'POST', url: redactUrl(auth.tokenUrl), status: response.status, apiMessage: reason || undefined });
  }

  return {
    async apply(_url, headers) {
      let token = current && Date.now() < current.expiresAt ? current.token : undefined;
      if (!token) {
        pending ??= fetchToken().finally(() => (pending = undefined));
        token = await pending;
      }
      headers.authorization = `Bearer ${token}`;
      return token;
    },
    renewAfterUnauthorized(usedToken) {
      if (usedToken === undefined) return false;
      if (current?.token === usedToken) current = undefined;
      return true;
    },
    secrets: () => [auth.clientSecret, clientBasic, ...issued],
  };
}
