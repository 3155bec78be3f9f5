import type { Readable, Writable } from 'node:stream';
import type { DefaultedExportTargetSpec } from '../../api/defaults.js';
import type { Credentials } from '../secrets.js';

/** Why a connection or transfer failed; the probe reports the first five as the Ready condition's reason. */
export const TRANSFER_REASONS = [
  'Unreachable',
  'AuthFailed',
  'HostKeyMismatch',
  'TLSError',
  'PermissionDenied',
  'TransferFailed',
  'SizeMismatch',
  'InvalidConfig',
] as const;
export type TransferReason = (typeof TRANSFER_REASONS)[number];

/** A classified failure. Transient ones are retried with backoff; permanent ones fail the destination at once. */
export class TransferError extends Error {
  /** Attempts made before giving up (set by withRetries). */
  attempts = 1;

  constructor(
    readonly reason: TransferReason,
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransferError';
  }
}

/** An ExportTarget with its Secrets resolved. */
export interface ResolvedTarget {
  name: string;
  spec: DefaultedExportTargetSpec;
  credentials: Credentials;
  /** PEM CA bundle for FTPS, from ftps.caSecretRef. */
  ca?: string;
}

export interface UploadResult {
  remotePath: string;
  bytes: number;
}

/** One authenticated session with a destination. */
export interface Connection {
  /**
   * Uploads to a temporary name in the target directory, checks the size, then renames to `finalName`.
   * `token` makes the temporary name; the same token on a retry overwrites a partial earlier attempt.
   */
  putAtomically(content: Readable, finalName: string, expectedBytes: number, token: string): Promise<UploadResult>;
  /** Writes, renames and removes a small probe file. */
  checkWritable(): Promise<void>;
  /**
   * The plain files of a directory (paths below the target's directory); a missing directory has none.
   * A name the server sent that is not valid UTF-8 cannot be addressed by its text: it is left out,
   * and passed to `unaddressable` as shown to people (see `escapedIfInvalid`, or with `?` where the
   * transport only has it decoded).
   */
  list(directory: string, unaddressable?: (shown: string) => void): Promise<RemoteEntry[]>;
  /** Streams a file (a path below the target's directory) into `into`, which it ends. */
  download(path: string, into: Writable): Promise<void>;
  /** Renames a file, making the destination's directory first (paths below the target's directory). */
  move(from: string, to: string): Promise<void>;
  /** Whether a directory (below the target's directory) exists; `list` shows a missing one as empty. */
  directoryExists(directory: string): Promise<boolean>;
  /** Opens a file for reading and closes it (reads at most its last byte): the read probe of a files source. */
  checkReadable(path: string): Promise<void>;
  close(): Promise<void>;
}

/** A plain file in a listing. */
export interface RemoteEntry {
  name: string;
  size: number;
  modifiedAt: Date;
}

/** Whether a name as a listing decoded it had bytes that are not UTF-8 (decoded as U+FFFD): such a name cannot be sent back. */
export function undecodable(name: string): boolean {
  return name.includes('\uFFFD');
}

/** A file name's bytes as text, each byte that is not part of valid UTF-8 shown as `\xNN`; undefined when all are. */
export function escapedIfInvalid(bytes: Buffer): string | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    let shown = '';
    let at = 0;
    while (at < bytes.length) {
      // The longest valid sequence from here (1 to 4 bytes), or one byte escaped.
      let taken = 0;
      for (let n = Math.min(4, bytes.length - at); n >= 1 && !taken; n--) {
        try {
          shown += new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + n));
          taken = n;
        } catch {
          // not a whole character: a shorter one, or an escape
        }
      }
      if (!taken) shown += `\\x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}`;
      at += taken || 1;
    }
    return shown;
  }
}

/** The directory part of a path ('' for a bare name). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function remotePath(directory: string, name: string): string {
  if (!directory) return name;
  return directory.endsWith('/') ? directory + name : `${directory}/${name}`;
}

/** The temporary name a file is uploaded under: hidden, and unique per run and file so concurrent runs never share it. */
export function temporaryName(finalName: string, token: string): string {
  const parent = parentOf(finalName);
  return remotePath(parent, `.${finalName.slice(parent ? parent.length + 1 : 0)}.${token}.part`);
}

/** Classifies socket-level errors, which look the same for every protocol. */
export function networkError(error: unknown, what: string): TransferError | undefined {
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(code) || /timed? ?out/i.test(message)) {
    return new TransferError('Unreachable', `${what}: ${message}`, true, { cause: error });
  }
  if (['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code) || /connection (lost|closed|reset)|socket hang up|ended/i.test(message)) {
    return new TransferError('TransferFailed', `${what}: connection lost (${message})`, true, { cause: error });
  }
  return undefined;
}
