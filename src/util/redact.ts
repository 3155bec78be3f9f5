/**
 * One redaction for every form a connection string or HTTP address carries a secret in: the
 * `user:password@` of a URL, query parameters (`?password=`, `?sslpassword=`, mysql2's
 * `?password=`, `?api_key=`, `?token=` ...) and libpq `key=value` strings (`password=... `,
 * `password='a b'`). Over-masking is accepted; a secret shown is not.
 */
const MASK = '***';

// Parameter names that hold a secret, whole (not as part of a longer name such as `sslkey`'s path).
const SECRET_NAME = String.raw`(?<![\w-])(?:[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key)|pass|key)`;
const SECRET_PARAM = new RegExp(String.raw`(${SECRET_NAME}\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&;'"]*)`, 'gi');
// `scheme://user:password@`: up to the last `@` of the address, so an unencoded `@`, `/` or `#` in the password is masked too.
const USERINFO = /([a-z][\w+.-]*:\/\/[^:/?#@\s]*):(\S*)@/gi;

/** The address or text with every secret in a recognised form masked. */
export function redactUrl(text: string): string {
  return text.replace(USERINFO, `$1:${MASK}@`).replace(SECRET_PARAM, (_, name: string) => `${name}${MASK}`);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The secret values inside a connection string, as written and URL-decoded. */
export function secretsOf(connection: string): string[] {
  const found: string[] = [];
  for (const match of connection.matchAll(USERINFO)) found.push(match[2]);
  for (const match of connection.matchAll(SECRET_PARAM)) found.push(match[2].replace(/^'(.*)'$/s, '$1'));
  // Too short to mask without mangling the message around it.
  return [...new Set(found.flatMap((s) => [s, decoded(s)]))].filter((s) => s.length >= 3);
}

/**
 * A message with the given connection strings and their bare secrets masked (drivers are not
 * trusted to leave them out), and every other recognised secret form too.
 */
export function redactSecrets(message: string, connections: readonly string[] = []): string {
  let out = message;
  for (const connection of connections) {
    out = out.split(connection).join(redactUrl(connection));
    for (const secret of secretsOf(connection)) out = out.split(secret).join(MASK);
  }
  return redactUrl(out);
}
