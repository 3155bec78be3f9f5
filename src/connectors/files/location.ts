import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FilesEndpoint } from '../../api/files.js';
import type { ExportTargetSpec } from '../../api/exporttarget.js';
import type { ExportSecrets } from '../../export/secrets.js';
import { connect, resolveTarget } from '../../export/transports/index.js';
import { remotePath, type Connection, type RemoteEntry } from '../../export/transports/types.js';
import { ConfigError } from '../../util/errors.js';

/** Where a files source's files are: paths are relative to its directory. */
export interface FileLocation {
  readonly what: string;
  list(directory: string): Promise<RemoteEntry[]>;
  download(path: string, into: Writable): Promise<void>;
  move(from: string, to: string): Promise<void>;
  /** Writes a small text file (a failed file's reason). */
  writeText(path: string, text: string): Promise<void>;
  /** Whether the directory exists (`list` shows a missing one as empty). */
  directoryExists(directory: string): Promise<boolean>;
  /** Opens a file for reading and closes it (the read probe). */
  checkReadable(path: string): Promise<void>;
  close(): Promise<void>;
}

class LocalDirectory implements FileLocation {
  constructor(private readonly root: string) {}

  get what(): string {
    return `directory ${this.root}`;
  }

  async list(directory: string): Promise<RemoteEntry[]> {
    const path = join(this.root, directory);
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: RemoteEntry[] = [];
    for (const name of names) {
      const info = await stat(join(path, name)).catch(() => undefined);
      if (info?.isFile()) entries.push({ name, size: info.size, modifiedAt: info.mtime });
    }
    return entries;
  }

  async download(path: string, into: Writable): Promise<void> {
    await pipeline(createReadStream(join(this.root, path)), into);
  }

  async move(from: string, to: string): Promise<void> {
    await mkdir(dirname(join(this.root, to)), { recursive: true });
    await rename(join(this.root, from), join(this.root, to));
  }

  async writeText(path: string, text: string): Promise<void> {
    await mkdir(dirname(join(this.root, path)), { recursive: true });
    await writeFile(join(this.root, path), text);
  }

  async directoryExists(directory: string): Promise<boolean> {
    const info = await stat(join(this.root, directory)).catch(() => undefined);
    return info?.isDirectory() === true;
  }

  async checkReadable(path: string): Promise<void> {
    await (await open(join(this.root, path), 'r')).close();
  }

  async close(): Promise<void> {}
}

/** An SFTP/FTPS server through its ExportTarget: the same pinned host key, CA bundle and credentials as exports. */
class RemoteDirectory implements FileLocation {
  constructor(
    private readonly connection: Connection,
    readonly what: string,
    private readonly base: string,
  ) {}

  list(directory: string): Promise<RemoteEntry[]> {
    return this.connection.list(remotePath(this.base, directory));
  }

  download(path: string, into: Writable): Promise<void> {
    return this.connection.download(remotePath(this.base, path), into);
  }

  move(from: string, to: string): Promise<void> {
    return this.connection.move(remotePath(this.base, from), remotePath(this.base, to));
  }

  /** Uploaded under a temporary name and renamed, like an export's files. */
  async writeText(path: string, text: string): Promise<void> {
    const bytes = Buffer.from(text);
    await this.connection.putAtomically(Readable.from([bytes]), remotePath(this.base, path), bytes.length, randomBytes(4).toString('hex'));
  }

  directoryExists(directory: string): Promise<boolean> {
    return this.connection.directoryExists(remotePath(this.base, directory));
  }

  checkReadable(path: string): Promise<void> {
    return this.connection.checkReadable(remotePath(this.base, path));
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

export interface FileLocationContext {
  targets: Record<string, ExportTargetSpec>;
  secrets: ExportSecrets;
}

/** Opens the location a files source names. */
export async function openLocation(endpoint: FilesEndpoint, context: FileLocationContext): Promise<FileLocation> {
  const sub = endpoint.subdirectory ?? '';
  if (endpoint.directory) return new LocalDirectory(join(endpoint.directory, sub));
  const name = endpoint.exportTargetRef!.name;
  const spec = context.targets[name];
  if (!spec) throw new ConfigError(`spec.source.files.exportTargetRef: ExportTarget "${name}" not found`);
  if (spec.protocol === 'FTP' && !spec.insecure) throw new ConfigError(`ExportTarget ${name}: plain FTP needs insecure: true`);
  const target = resolveTarget(name, spec, context.secrets);
  return new RemoteDirectory(await connect(target), `ExportTarget ${name} (${spec.protocol} ${spec.host})`, sub);
}
