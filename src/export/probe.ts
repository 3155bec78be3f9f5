import type { ExportTargetSpec } from '../api/exporttarget.js';
import { FerryError } from '../util/errors.js';
import type { ExportSecrets } from './secrets.js';
import { connect, insecurityWarning, resolveTarget } from './transports/index.js';
import { TransferError } from './transports/types.js';

export interface ProbeResult {
  ready: boolean;
  /** `Ready`, or Unreachable, AuthFailed, HostKeyMismatch, TLSError, PermissionDenied (InvalidConfig for a bad spec). */
  reason: string;
  message: string;
  /** Set when the target works but is configured insecurely (the controller shows it as a warning condition). */
  warning?: string;
}

/**
 * Connects, authenticates and checks the directory is writable (writes a probe file under a
 * temporary name, renames it, removes it); a ReadOnly target's directory is listed instead.
 * Never throws; secrets never appear in the message.
 */
export async function probeExportTarget(spec: ExportTargetSpec, secrets: ExportSecrets, name = 'probe'): Promise<ProbeResult> {
  let target;
  try {
    target = resolveTarget(name, spec, secrets);
  } catch (error) {
    return { ready: false, reason: 'InvalidConfig', message: error instanceof FerryError ? error.message : String(error) };
  }
  const warning = insecurityWarning(target);
  const where = `${target.spec.protocol} ${target.spec.host}:${target.spec.port}${target.spec.directory ? ` ${target.spec.directory}` : ''}`;
  let missing = false;
  try {
    const connection = await connect(target);
    try {
      // A read-only location (a partner's) is listed: a probe file there would fail or be unwelcome.
      if (spec.access !== 'ReadOnly') await connection.checkWritable();
      else if (await connection.directoryExists('')) await connection.list('');
      else missing = true;
    } finally {
      await connection.close();
    }
  } catch (error) {
    const classified = error instanceof TransferError ? error : new TransferError('Unreachable', (error as Error).message, true);
    // The probe reports the five connection reasons; a dropped transfer counts as unreachable.
    const reason = classified.reason === 'TransferFailed' ? 'Unreachable' : classified.reason === 'SizeMismatch' ? 'PermissionDenied' : classified.reason;
    return { ready: false, reason, message: classified.message, ...(warning ? { warning } : {}) };
  }
  if (missing) return { ready: false, reason: 'NotFound', message: `the directory of ${where} does not exist`, ...(warning ? { warning } : {}) };
  const did = spec.access === 'ReadOnly' ? `listed ${where} (read-only: nothing written)` : `wrote a probe file to ${where}`;
  return { ready: true, reason: 'Ready', message: `connected, authenticated and ${did}`, ...(warning ? { warning } : {}) };
}
