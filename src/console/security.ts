/**
 * What keeps the console's pages and actions safe in a browser: a strict Content-Security-Policy (no
 * inline script or style, nothing from other origins), CSRF tokens bound to the signed-in session, and
 * the same-origin check on every action.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers on every response of the console. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Not no-referrer: with it the browser sends `Origin: null` on the console's own form posts.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

const equal = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** CSRF tokens: an HMAC of the session under a key that lives only in this process. */
export class CsrfTokens {
  private readonly key = randomBytes(32);

  tokenFor(session: string): string {
    return createHmac('sha256', this.key).update(session).digest('base64url');
  }

  verify(session: string, token: string | undefined): boolean {
    return typeof token === 'string' && equal(this.tokenFor(session), token);
  }
}

/**
 * An action must come from a page of the console: when the browser says where the request comes from
 * (Origin, or Sec-Fetch-Site), it must be this origin.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (!origin) return true;
  const host = req.headers['x-forwarded-host'] ?? req.headers.host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export { equal as constantTimeEqual };
