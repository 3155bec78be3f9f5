import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { Client, FTPContext, FTPError, type FileInfo } from 'basic-ftp';
import { escapedIfInvalid, networkError, parentOf, remotePath, temporaryName, TransferError, type Connection, type RemoteEntry, type ResolvedTarget, type UploadResult } from './types.js';

/** Certificate verification failures: retrying cannot help. */
const VERIFY_CODES = /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH)/;
/** Other TLS protocol errors (e.g. a garbled record on a busy link) may pass on a new connection. */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL)/;

function classify(error: unknown, what: string): TransferError {
  if (error instanceof TransferError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown }).code ?? '');
  if (VERIFY_CODES.test(code) || /certificate/i.test(message)) {
    return new TransferError('TLSError', `${what}: TLS verification failed (${message})`, false, { cause: error });
  }
  if (TLS_CODES.test(code) || /\b(tls|ssl)\b/i.test(message)) {
    return new TransferError('TLSError', `${what}: TLS error (${message.trim()})`, true, { cause: error });
  }
  if (error instanceof FTPError) {
    if (error.code === 530) return new TransferError('AuthFailed', `${what}: login refused (${message})`, false, { cause: error });
    if ([550, 553, 552, 532, 450].includes(error.code)) {
      return new TransferError('PermissionDenied', `${what}: ${message}`, error.code === 450, { cause: error });
    }
    return new TransferError('TransferFailed', `${what}: ${message}`, error.code >= 400 && error.code < 500, { cause: error });
  }
  return networkError(error, what) ?? new TransferError('TransferFailed', `${what}: ${message}`, true, { cause: error });
}

class FtpConnection implements Connection {
  constructor(
    private readonly client: Client,
    private readonly target: ResolvedTarget,
    private readonly what: string,
  ) {}

  async putAtomically(content: Readable, finalName: string, expectedBytes: number, token: string): Promise<UploadResult> {
    const directory = this.target.spec.directory;
    const finalPath = remotePath(directory, finalName);
    const tempPath = remotePath(directory, temporaryName(finalName, token));
    try {
      await this.client.uploadFrom(content, tempPath);
      const size = await this.client.size(tempPath);
      if (size !== expectedBytes) {
        throw new TransferError('SizeMismatch', `${this.what}: uploaded ${size} bytes of ${expectedBytes} to ${tempPath}`, true);
      }
      // RNFR/RNTO replaces an existing file on common servers (vsftpd, ProFTPD, ftp-srv).
      await this.client.rename(tempPath, finalPath);
      return { remotePath: finalPath, bytes: size };
    } catch (error) {
      content.destroy();
      if (!this.client.closed) await this.client.remove(tempPath, true).catch(() => {});
      throw classify(error, this.what);
    }
  }

  async checkWritable(): Promise<void> {
    const name = `.ferry-probe-${randomBytes(4).toString('hex')}`;
    await this.putAtomically(Readable.from([Buffer.from('ferry probe\n')]), name, 12, randomBytes(4).toString('hex'));
    try {
      await this.client.remove(remotePath(this.target.spec.directory, name));
    } catch (error) {
      throw classify(error, this.what);
    }
  }

  private path(relative: string): string {
    return remotePath(this.target.spec.directory, relative);
  }

  async list(directory: string, unaddressable?: (shown: string) => void): Promise<RemoteEntry[]> {
    const path = this.path(directory);
    try {
      const entries = await this.listReportingUnreadable(path).catch((error: unknown) => {
        if (error instanceof FTPError && error.code === 550) return [];
        throw error;
      });
      const files: FileInfo[] = [];
      for (const entry of entries.filter((e) => e.isFile)) {
        // The listing was read as Latin-1, byte for byte: the name's bytes, UTF-8 when it can be addressed.
        const bytes = Buffer.from(entry.name, 'latin1');
        const shown = escapedIfInvalid(bytes);
        if (shown === undefined) files.push(Object.assign(entry, { name: bytes.toString('utf8') }));
        else unaddressable?.(shown);
      }
      const listed: RemoteEntry[] = [];
      // LIST times are minutes at best (vsftpd has no MLSD); MDTM gives seconds.
      for (const file of files) listed.push({ name: file.name, size: file.size, modifiedAt: await this.client.lastMod(remotePath(path, file.name)) });
      return listed;
    } catch (error) {
      throw classify(error, this.what);
    }
  }

  /**
   * vsftpd lists a directory it cannot open as empty, saying so only in the closing reply
   * ("226 Transfer done (but failed to open directory)"): that reply is read from the control
   * connection's log, and a directory that exists but cannot be opened is refused.
   */
  private async listReportingUnreadable(path: string): Promise<FileInfo[]> {
    const ftp = this.client.ftp;
    let unopened = false;
    ftp.log = (message: string) => {
      if (/\b226 .*failed to open directory/i.test(message)) unopened = true;
      FTPContext.prototype.log.call(ftp, message);
    };
    let entries: FileInfo[];
    // Read as Latin-1 (each byte one character), so a name that is not UTF-8 is seen as its bytes instead
    // of U+FFFD; the path is sent as its UTF-8 bytes all the same.
    ftp.encoding = 'latin1';
    try {
      entries = await this.client.list(path ? Buffer.from(path, 'utf8').toString('latin1') : undefined);
    } finally {
      ftp.encoding = 'utf8';
      delete (ftp as { log?: unknown }).log;
    }
    if (unopened && (await this.directoryExists(path, false))) {
      throw new TransferError('PermissionDenied', `${this.what}: cannot list ${path || 'the login directory'}: permission denied (the server could not open it)`, false);
    }
    return entries;
  }

  async directoryExists(directory: string, relative = true): Promise<boolean> {
    const path = relative ? this.path(directory) : directory;
    if (!path) return true;
    try {
      const home = await this.client.pwd();
      try {
        await this.client.cd(path);
      } catch (error) {
        if (error instanceof FTPError && error.code === 550) return false;
        throw error;
      }
      await this.client.cd(home);
      return true;
    } catch (error) {
      throw classify(error, this.what);
    }
  }

  /** RETR from the last byte (REST): the server opens the file as for a download, and sends one byte. */
  async checkReadable(path: string): Promise<void> {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    try {
      const size = await this.client.size(this.path(path));
      await this.client.downloadTo(sink, this.path(path), Math.max(size - 1, 0));
    } catch (error) {
      throw classify(error, this.what);
    } finally {
      sink.destroy();
    }
  }

  async download(path: string, into: Writable): Promise<void> {
    try {
      await this.client.downloadTo(into, this.path(path));
      into.end();
    } catch (error) {
      into.destroy();
      throw classify(error, this.what);
    }
  }

  async move(from: string, to: string): Promise<void> {
    try {
      const directory = parentOf(this.path(to));
      if (directory) {
        // ensureDir changes the working directory; relative paths are read from the login directory.
        const home = await this.client.pwd();
        await this.client.ensureDir(directory);
        await this.client.cd(home);
      }
      await this.client.rename(this.path(from), this.path(to));
    } catch (error) {
      throw classify(error, this.what);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

export async function connectFtp(target: ResolvedTarget): Promise<Connection> {
  const { spec, credentials } = target;
  const scheme = spec.protocol === 'FTP' ? 'ftp' : 'ftps';
  const what = `${scheme}://${spec.host}:${spec.port}`;
  if (spec.protocol === 'FTP' && !spec.insecure) {
    throw new TransferError('InvalidConfig', `ExportTarget ${target.name}: plain FTP needs insecure: true`, false);
  }
  if (credentials.password === undefined) {
    throw new TransferError('InvalidConfig', `ExportTarget ${target.name}: FTP needs a password in the credentials Secret`, false);
  }
  const client = new Client((spec.timeoutSeconds ?? 30) * 1000);
  const skipVerify = spec.ftps?.insecureSkipVerify === true;
  try {
    await client.access({
      host: spec.host,
      port: spec.port,
      user: credentials.username,
      password: credentials.password,
      secure: spec.protocol === 'FTP' ? false : spec.protocol === 'FTPS-Implicit' ? 'implicit' : true,
      secureOptions: {
        rejectUnauthorized: !skipVerify,
        ...(target.ca ? { ca: target.ca } : {}),
        ...(isIP(spec.host) ? {} : { servername: spec.host }),
      },
    });
  } catch (error) {
    client.close();
    // 500/502/504/534 to AUTH TLS: the server does not do explicit TLS. Never fall back to plain FTP.
    if (error instanceof FTPError && spec.protocol === 'FTPS' && [500, 502, 504, 534].includes(error.code)) {
      throw new TransferError('TLSError', `${what}: the server refused AUTH TLS (${error.message})`, false, { cause: error });
    }
    throw classify(error, what);
  }
  return new FtpConnection(client, target, what);
}
