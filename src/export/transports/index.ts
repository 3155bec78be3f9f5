import { withExportTargetDefaults } from '../../api/defaults.js';
import type { ExportTargetSpec } from '../../api/exporttarget.js';
import { readCredentials, requireSecret, type ExportSecrets } from '../secrets.js';
import { connectSftp } from './sftp.js';
import type { Connection, ResolvedTarget } from './types.js';

/** Resolves an ExportTarget's Secrets (credentials, CA bundle); throws ConfigError when one is missing. */
export function resolveTarget(name: string, spec: ExportTargetSpec, secrets: ExportSecrets): ResolvedTarget {
  const defaulted = withExportTargetDefaults(spec);
  const ca = spec.ftps?.caSecretRef ? requireSecret(secrets, spec.ftps.caSecretRef, 'ca.crt', 'spec.ftps.caSecretRef') : undefined;
  return { name, spec: defaulted, credentials: readCredentials(secrets, spec.credentialsSecretRef.name), ...(ca ? { ca } : {}) };
}

export function connect(target: ResolvedTarget): Promise<Connection> {
  // basic-ftp is loaded only when an FTP(S) server is reached.
  return target.spec.protocol === 'SFTP' ? connectSftp(target) : import('./ftps.js').then((ftps) => ftps.connectFtp(target));
}

/** A warning the ExportTarget should carry even when it works (plain FTP, unverified TLS, unpinned SSH). */
export function insecurityWarning(target: ResolvedTarget): string | undefined {
  const { spec } = target;
  if (spec.protocol === 'FTP') return 'plain FTP: credentials and files travel unencrypted (insecure: true)';
  if (spec.ftps?.insecureSkipVerify) return 'FTPS server certificate is not verified (ftps.insecureSkipVerify: true)';
  if (spec.protocol === 'SFTP' && !spec.sftp?.hostKey && !spec.sftp?.hostKeyFingerprint) return 'SFTP host key is not pinned (insecure: true)';
  return undefined;
}
