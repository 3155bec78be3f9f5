import type { SecretManifest } from '../api/index.js';
import { ConfigError } from '../util/errors.js';

export const EMBEDDED_SCHEME = 'embedded://';

/** Reads `secretRef` from the Secret manifests given to a local run. */
export function secretValue(secrets: SecretManifest[], ref: { name: string; key?: string }, fieldPath: string): string {
  const key = ref.key ?? 'url';
  const secret = secrets.find((s) => s.name === ref.name);
  if (!secret) throw new ConfigError(`${fieldPath}: Secret "${ref.name}" not found among the manifests`);
  const value = secret.stringData[key];
  if (value === undefined) throw new ConfigError(`${fieldPath}: Secret "${ref.name}" has no key "${key}"`);
  return value;
}

/** `embedded://<database>` names a database on the local embedded server. */
export function embeddedDatabaseName(url: string): string | undefined {
  if (!url.startsWith(EMBEDDED_SCHEME)) return undefined;
  const name = url.slice(EMBEDDED_SCHEME.length).replace(/\/+$/, '');
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new ConfigError(`invalid embedded database name in ${url}: use lower-case letters, digits and _`);
  return name;
}
