import { timingSafeEqual } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { posix, resolve, sep } from 'node:path';
import ssh2 from 'ssh2';
import { publicKeyBlob, sha256Fingerprint } from '../transports/host-key.js';
import { generateEd25519KeyPair } from '../../util/ssh-keys.js';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;

/**
 * A real SFTP server on loopback (ssh2's server side with file-system handlers) for the demo, tests
 * and benchmark. It serves one directory, checks a password or public key, and can be told to cut
 * the connection part-way through an upload.
 */
export interface LoopbackSftpOptions {
  root: string;
  username: string;
  password?: string;
  /** OpenSSH public key line accepted for key authentication. */
  authorizedKey?: string;
  /** OpenSSH private key of the server; generated when absent. */
  hostPrivateKey?: string;
  /** Refuse every write (for permission tests). */
  readOnly?: boolean;
  /** Drops the connection once this many bytes were written to one file (the Nth upload only, see dropOnUpload). */
  dropAfterBytes?: number;
  /** Which upload (1-based, counted across connections) dropAfterBytes applies to; default 1. */
  dropOnUpload?: number;
  /** Drops the connection once this many bytes of one file were read (every download). */
  dropDownloadAfterBytes?: number;
}

export interface LoopbackSftpServer {
  port: number;
  /** `ssh-ed25519 AAAA...` line to pin. */
  hostKey: string;
  hostKeyFingerprint: string;
  uploads: number;
  close(): Promise<void>;
}

type Handle = { kind: 'file'; fd: fs.FileHandle; path: string; written: number; read: number; upload: number } | { kind: 'dir'; path: string; done: boolean };

function attrsOf(stats: Stats) {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

function statusOf(error: unknown): number {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return STATUS.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS.PERMISSION_DENIED;
  return STATUS.FAILURE;
}

export async function startLoopbackSftp(options: LoopbackSftpOptions): Promise<LoopbackSftpServer> {
  const root = resolve(options.root);
  const hostPrivateKey = options.hostPrivateKey ?? generateEd25519KeyPair().private;
  const parsedHost = utils.parseKey(hostPrivateKey);
  if (parsedHost instanceof Error) throw parsedHost;
  const hostKeyLine = `${parsedHost.type} ${parsedHost.getPublicSSH().toString('base64')}`;
  const allowedKey = options.authorizedKey ? utils.parseKey(options.authorizedKey) : undefined;
  if (allowedKey instanceof Error) throw allowedKey;
  let uploads = 0;
  const clients = new Set<ssh2.Connection>();

  const local = (path: string): string => {
    const full = resolve(root, '.' + posix.normalize('/' + path));
    if (full !== root && !full.startsWith(root + sep)) throw Object.assign(new Error('outside root'), { code: 'EACCES' });
    return full;
  };

  const server = new Server({ hostKeys: [hostPrivateKey] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.username !== options.username) return ctx.reject();
      if (ctx.method === 'password' && options.password !== undefined) {
        const given = Buffer.from(ctx.password);
        const expected = Buffer.from(options.password);
        return given.length === expected.length && timingSafeEqual(given, expected) ? ctx.accept() : ctx.reject();
      }
      if (ctx.method === 'publickey' && allowedKey) {
        if (!ctx.key.data.equals(allowedKey.getPublicSSH())) return ctx.reject();
        if (!ctx.signature) return ctx.accept(); // key query: the client then signs
        return ctx.blob && allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
      }
      ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const handles = new Map<number, Handle>();
          let nextHandle = 1;
          const newHandle = (h: Handle) => {
            const id = nextHandle++;
            handles.set(id, h);
            const buffer = Buffer.alloc(4);
            buffer.writeUInt32BE(id);
            return buffer;
          };
          // A dropped connection must not leak open files.
          sftp.on('close', () => {
            for (const h of handles.values()) if (h.kind === 'file') void h.fd.close().catch(() => {});
            handles.clear();
          });
          const handleOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE(0)) : undefined);
          const run = (reqId: number, work: () => Promise<void>) => {
            work().catch((error) => sftp.status(reqId, statusOf(error), (error as Error).message));
          };
          const refuseWrite = () => {
            if (options.readOnly) throw Object.assign(new Error('Permission denied'), { code: 'EACCES' });
          };

          sftp.on('OPEN', (reqId, filename, flags) =>
            run(reqId, async () => {
              const mode = utils.sftp.flagsToString(flags) ?? 'r';
              if (mode !== 'r') refuseWrite();
              const fd = await fs.open(local(filename), mode);
              const upload = mode === 'r' ? 0 : ++uploads;
              sftp.handle(reqId, newHandle({ kind: 'file', fd, path: filename, written: 0, read: 0, upload }));
            }),
          );
          sftp.on('WRITE', (reqId, handleBuffer, offset, data) =>
            run(reqId, async () => {
              const h = handleOf(handleBuffer);
              if (h?.kind !== 'file') return sftp.status(reqId, STATUS.FAILURE, 'bad handle');
              await h.fd.write(data, 0, data.length, offset);
              h.written += data.length;
              if (options.dropAfterBytes !== undefined && h.upload === (options.dropOnUpload ?? 1) && h.written >= options.dropAfterBytes) {
                // Simulates a network failure mid-upload: the socket goes away without a reply.
                (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
                return;
              }
              sftp.status(reqId, STATUS.OK);
            }),
          );
          sftp.on('READ', (reqId, handleBuffer, offset, length) =>
            run(reqId, async () => {
              const h = handleOf(handleBuffer);
              if (h?.kind !== 'file') return sftp.status(reqId, STATUS.FAILURE, 'bad handle');
              const buffer = Buffer.alloc(length);
              const { bytesRead } = await h.fd.read(buffer, 0, length, offset);
              if (bytesRead === 0) return sftp.status(reqId, STATUS.EOF);
              h.read += bytesRead;
              if (options.dropDownloadAfterBytes !== undefined && h.read > options.dropDownloadAfterBytes) {
                // Simulates a network failure mid-download: the socket goes away without a reply.
                (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
                return;
              }
              sftp.data(reqId, buffer.subarray(0, bytesRead));
            }),
          );
          sftp.on('FSTAT', (reqId, handleBuffer) =>
            run(reqId, async () => {
              const h = handleOf(handleBuffer);
              if (h?.kind !== 'file') return sftp.status(reqId, STATUS.FAILURE, 'bad handle');
              sftp.attrs(reqId, attrsOf(await h.fd.stat()));
            }),
          );
          sftp.on('FSETSTAT', (reqId) => sftp.status(reqId, STATUS.OK));
          sftp.on('SETSTAT', (reqId) => sftp.status(reqId, STATUS.OK));
          sftp.on('CLOSE', (reqId, handleBuffer) =>
            run(reqId, async () => {
              const h = handleOf(handleBuffer);
              if (!h) return sftp.status(reqId, STATUS.FAILURE, 'bad handle');
              handles.delete(handleBuffer.readUInt32BE(0));
              if (h.kind === 'file') await h.fd.close();
              sftp.status(reqId, STATUS.OK);
            }),
          );
          const stat = (reqId: number, path: string) =>
            run(reqId, async () => {
              sftp.attrs(reqId, attrsOf(await fs.stat(local(path))));
            });
          sftp.on('STAT', stat);
          sftp.on('LSTAT', stat);
          sftp.on('REALPATH', (reqId, path) =>
            run(reqId, async () => {
              const normalized = posix.normalize('/' + path);
              sftp.name(reqId, [{ filename: normalized, longname: normalized, attrs: {} as never }]);
            }),
          );
          sftp.on('OPENDIR', (reqId, path) =>
            run(reqId, async () => {
              await fs.readdir(local(path));
              sftp.handle(reqId, newHandle({ kind: 'dir', path, done: false }));
            }),
          );
          sftp.on('READDIR', (reqId, handleBuffer) =>
            run(reqId, async () => {
              const h = handleOf(handleBuffer);
              if (h?.kind !== 'dir') return sftp.status(reqId, STATUS.FAILURE, 'bad handle');
              if (h.done) return sftp.status(reqId, STATUS.EOF);
              h.done = true;
              const names = await fs.readdir(local(h.path));
              const entries = await Promise.all(
                names.map(async (name) => {
                  const stats = await fs.stat(local(posix.join(h.path, name)));
                  // As `ls -l` shows it: clients read the entry's type from its first letter.
                  const longname = `${stats.isDirectory() ? 'd' : '-'}rw-r--r-- 1 ferry ferry ${stats.size} Jan  1 00:00 ${name}`;
                  return { filename: name, longname, attrs: attrsOf(stats) };
                }),
              );
              sftp.name(reqId, entries);
            }),
          );
          sftp.on('REMOVE', (reqId, path) =>
            run(reqId, async () => {
              refuseWrite();
              await fs.unlink(local(path));
              sftp.status(reqId, STATUS.OK);
            }),
          );
          sftp.on('MKDIR', (reqId, path) =>
            run(reqId, async () => {
              refuseWrite();
              await fs.mkdir(local(path));
              sftp.status(reqId, STATUS.OK);
            }),
          );
          sftp.on('RMDIR', (reqId, path) =>
            run(reqId, async () => {
              refuseWrite();
              await fs.rmdir(local(path));
              sftp.status(reqId, STATUS.OK);
            }),
          );
          // SFTP v3 rename does not replace an existing file (clients remove it first).
          sftp.on('RENAME', (reqId, from, to) =>
            run(reqId, async () => {
              refuseWrite();
              const exists = await fs.stat(local(to)).then(() => true, () => false);
              if (exists) return sftp.status(reqId, STATUS.FAILURE, 'target exists');
              await fs.rename(local(from), local(to));
              sftp.status(reqId, STATUS.OK);
            }),
          );
          sftp.on('EXTENDED', (reqId) => sftp.status(reqId, STATUS.OP_UNSUPPORTED));
        });
      });
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hostKey: hostKeyLine,
    hostKeyFingerprint: sha256Fingerprint(publicKeyBlob(hostKeyLine)),
    get uploads() {
      return uploads;
    },
    close: async () => {
      for (const client of clients) client.end();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
