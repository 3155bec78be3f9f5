import { ConfigError } from '../util/errors.js';

/** Secret name -> key -> value, as read from Kubernetes Secrets (decoded) or local Secret manifests. */
export type ExportSecrets = Record<string, Record<string, string>>;

/** The value of one Secret key; a ConfigError naming the field when the Secret or key is missing. */
export function requireSecret(secrets: ExportSecrets, ref: { name: string; key?: string }, defaultKey: string, fieldPath: string): string {
  const key = ref.key ?? defaultKey;
  const secret = secrets[ref.name];
  if (!secret) throw new ConfigError(`${fieldPath}: Secret "${ref.name}" not found`);
  const value = secret[key];
  if (value === undefined) throw new ConfigError(`${fieldPath}: Secret "${ref.name}" has no key "${key}"`);
  return value;
}

export interface Credentials {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

/** Reads `username` plus `password` and/or `privateKey` (optionally `passphrase`) from the target's credentials Secret. */
export function readCredentials(secrets: ExportSecrets, secretName: string): Credentials {
  const field = 'spec.credentialsSecretRef';
  const secret = secrets[secretName];
  if (!secret) throw new ConfigError(`${field}: Secret "${secretName}" not found`);
  if (!secret.username) throw new ConfigError(`${field}: Secret "${secretName}" has no key "username"`);
  if (secret.password === undefined && secret.privateKey === undefined) {
    throw new ConfigError(`${field}: Secret "${secretName}" needs a "password" or a "privateKey"`);
  }
  return {
    username: secret.username,
    ...(secret.password !== undefined ? { password: secret.password } : {}),
    ...(secret.privateKey !== undefined ? { privateKey: secret.privateKey } : {}),
    ...(secret.passphrase !== undefined ? { passphrase: secret.passphrase } : {}),
  };
}

/** Local runs: Secret manifests -> ExportSecrets. */
export function secretsFromManifests(manifests: { name: string; stringData: Record<string, string> }[]): ExportSecrets {
  return Object.fromEntries(manifests.map((s) => [s.name, s.stringData]));
}
