import { randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import type { Client, SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { hostKeyMatches, sha256Fingerprint } from './host-key.js';
import { networkError, parentOf, undecodable, remotePath, temporaryName, TransferError, type Connection, type RemoteEntry, type ResolvedTarget, type UploadResult } from './types.js';

function classify(error: unknown, what: string, hostKeyRejected: string | undefined): TransferError {
  if (error instanceof TransferError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (hostKeyRejected) return new TransferError('HostKeyMismatch', `${what}: ${hostKeyRejected}`, false, { cause: error });
  if (/authentication/i.test(message)) {
    return new TransferError('AuthFailed', `${what}: authentication failed`, false, { cause: error });
  }
  if (/permission denied|access denied|EACCES/i.test(message)) return new TransferError('PermissionDenied', `${what}: ${message}`, false, { cause: error });
  if (/no such file|does not exist/i.test(message)) return new TransferError('PermissionDenied', `${what}: ${message}`, false, { cause: error });
  if (/handshake|key exchange|no matching/i.test(message)) return new TransferError('Unreachable', `${what}: SSH handshake failed (${message})`, false, { cause: error });
  return networkError(error, what) ?? new TransferError('TransferFailed', `${what}: ${message}`, true, { cause: error });
}

class SftpConnection implements Connection {
  constructor(
    private readonly client: SftpClient,
    private readonly target: ResolvedTarget,
  ) {}

  private what(): string {
    return `sftp://${this.target.spec.host}:${this.target.spec.port}`;
  }

  async putAtomically(content: Readable, finalName: string, expectedBytes: number, token: string): Promise<UploadResult> {
    const directory = this.target.spec.directory;
    const finalPath = remotePath(directory, finalName);
    const tempPath = remotePath(directory, temporaryName(finalName, token));
    try {
      await this.client.put(content, tempPath);
      const stat = await this.client.stat(tempPath);
      if (stat.size !== expectedBytes) {
        await this.client.delete(tempPath, true).catch(() => {});
        throw new TransferError('SizeMismatch', `${this.what()}: uploaded ${stat.size} bytes of ${expectedBytes} to ${tempPath}`, true);
      }
      await this.replace(tempPath, finalPath);
      return { remotePath: finalPath, bytes: stat.size };
    } catch (error) {
      content.destroy();
      await this.client.delete(tempPath, true).catch(() => {});
      throw classify(error, this.what(), undefined);
    }
  }

  /** posix-rename (OpenSSH) replaces atomically; plain SFTP rename refuses an existing name, so remove it first. */
  private async replace(from: string, to: string): Promise<void> {
    try {
      await this.client.posixRename(from, to);
      return;
    } catch {
      // Not supported by this server: fall back below.
    }
    try {
      await this.client.rename(from, to);
    } catch (error) {
      if (!(await this.client.exists(to))) throw error;
      await this.client.delete(to);
      await this.client.rename(from, to);
    }
  }

  async checkWritable(): Promise<void> {
    const name = `.ferry-probe-${randomBytes(4).toString('hex')}`;
    await this.putAtomically(Readable.from([Buffer.from('ferry probe\n')]), name, 12, randomBytes(4).toString('hex'));
    try {
      await this.client.delete(remotePath(this.target.spec.directory, name));
    } catch (error) {
      throw classify(error, this.what(), undefined);
    }
  }

  private path(relative: string): string {
    return remotePath(this.target.spec.directory, relative);
  }

  async list(directory: string, unaddressable?: (shown: string) => void): Promise<RemoteEntry[]> {
    const path = this.path(directory);
    try {
      if (!(await this.client.exists(path))) return [];
      const files = (await this.client.list(path)).filter((e) => e.type === '-');
      // ssh2 gives names decoded (U+FFFD in place of bytes that are not UTF-8): shown with ? there.
      for (const file of files.filter((e) => undecodable(e.name))) unaddressable?.(file.name.replace(/\uFFFD/g, '?'));
      return files.filter((e) => !undecodable(e.name)).map((e) => ({ name: e.name, size: e.size, modifiedAt: new Date(e.modifyTime) }));
    } catch (error) {
      throw classify(error, this.what(), undefined);
    }
  }

  async download(path: string, into: Writable): Promise<void> {
    try {
      await this.client.get(this.path(path), into);
    } catch (error) {
      into.destroy();
      throw classify(error, this.what(), undefined);
    }
  }

  async directoryExists(directory: string): Promise<boolean> {
    try {
      return (await this.client.exists(this.path(directory))) === 'd';
    } catch (error) {
      throw classify(error, this.what(), undefined);
    }
  }

  async checkReadable(path: string): Promise<void> {
    const sftp = (this.client as unknown as { sftp: SFTPWrapper }).sftp;
    try {
      const handle = await new Promise<Buffer>((ok, fail) => sftp.open(this.path(path), 'r', (error, h) => (error ? fail(error) : ok(h))));
      await new Promise<void>((ok, fail) => sftp.close(handle, (error) => (error ? fail(error) : ok())));
    } catch (error) {
      throw classify(error, this.what(), undefined);
    }
  }

  async move(from: string, to: string): Promise<void> {
    try {
      const directory = parentOf(this.path(to));
      if (directory && !(await this.client.exists(directory))) await this.client.mkdir(directory, true);
      await this.replace(this.path(from), this.path(to));
    } catch (error) {
      throw classify(error, this.what(), undefined);
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

export async function connectSftp(target: ResolvedTarget): Promise<Connection> {
  const { spec, credentials } = target;
  // The library's default global listeners print to the console; failures reach us as rejections anyway.
  const quiet = { error: () => {}, end: () => {}, close: () => {} };
  const client = new (SftpClient as unknown as new (name: string, callbacks: typeof quiet) => SftpClient)('ferry', quiet);
  let hostKeyRejected: string | undefined;
  const pinned = Boolean(spec.sftp?.hostKey || spec.sftp?.hostKeyFingerprint);
  if (!pinned && !spec.insecure) {
    throw new TransferError('InvalidConfig', `ExportTarget ${target.name}: no pinned host key (sftp.hostKey or sftp.hostKeyFingerprint) and insecure is not set`, false);
  }
  try {
    await client.connect({
      host: spec.host,
      port: spec.port,
      username: credentials.username,
      ...(credentials.password !== undefined ? { password: credentials.password } : {}),
      ...(credentials.privateKey !== undefined ? { privateKey: credentials.privateKey } : {}),
      ...(credentials.passphrase !== undefined ? { passphrase: credentials.passphrase } : {}),
      readyTimeout: (spec.timeoutSeconds ?? 30) * 1000,
      hostVerifier: (key: Buffer) => {
        if (!pinned) return true;
        if (hostKeyMatches(key, spec.sftp ?? {})) return true;
        hostKeyRejected = `host key ${sha256Fingerprint(key)} does not match the pinned key`;
        return false;
      },
    });
  } catch (error) {
    await client.end().catch(() => {});
    throw classify(error, `sftp://${spec.host}:${spec.port}`, hostKeyRejected);
  }
  // SFTP reads and writes are request/response: with Nagle's algorithm each small request waits for
  // the peer's delayed ACK (~40 ms), so a 7.9 MB download took 5.5 s on loopback (0.14 s without).
  (client as unknown as { client: Client }).client.setNoDelay(true);
  return new SftpConnection(client, target);
}
