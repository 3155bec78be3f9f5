import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { FilesEndpoint } from '../../api/files.js';
import type { ExportTargetSpec } from '../../api/exporttarget.js';
import type { ExportSecrets } from '../../export/secrets.js';
import { connect, resolveTarget } from '../../export/transports/index.js';
import { escapedIfInvalid, remotePath, TransferError, type Connection, type RemoteEntry } from '../../export/transports/types.js';
import { ConfigError, FerryError } from '../../util/errors.js';

/** Where a files source's files are: paths are relative to its directory. */
export interface FileLocation {
  readonly what: string;
  /** The plain files of a directory; a file whose name is not valid UTF-8 cannot be addressed: it is left out, and `warnings` names it. */
  list(directory: string): Promise<RemoteEntry[]>;
  /** One line per file left out of a listing so far (see `list`), for the run's report. */
  warnings(): string[];
  download(path: string, into: Writable): Promise<void>;
  /**
   * Moves a file, making the destination's folder first. A different file already at `to` is never
   * replaced (it may be one imported or refused before, which its record says is there): that is a
   * `NameTakenError`, every other failure a `MoveError`, the file staying where it was.
   */
  move(from: string, to: string): Promise<void>;
  /** Whether a file is at `path`. */
  fileExists(path: string): Promise<boolean>;
  /** Writes a small text file (a failed file's reason). */
  writeText(path: string, text: string): Promise<void>;
  /** Whether the directory exists (`list` shows a missing one as empty). */
  directoryExists(directory: string): Promise<boolean>;
  /** Opens a file for reading and closes it (the read probe). */
  checkReadable(path: string): Promise<void>;
  close(): Promise<void>;
}

/** A move that did not happen: one line naming the file, where it was going and why (`why`), the file staying where it was. */
export class MoveError extends FerryError {
  constructor(
    readonly from: string,
    readonly to: string,
    what: string,
    readonly why: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot move ${from} to ${to} (${what}): ${why}; the file stays where it is`, 1, options);
    this.name = 'MoveError';
  }
}

/** A move refused because a different file already holds the destination's name. */
export class NameTakenError extends MoveError {
  constructor(from: string, to: string, what: string) {
    super(from, to, what, 'a different file of that name is already there');
    this.name = 'NameTakenError';
  }
}

/**
 * Moves a file into `directory` under its own name, or under the first free `NAME (n)` when a
 * different file holds that name (one imported or refused before, which its record says is there:
 * never replaced); the same bytes there are replaced. Returns where the file went.
 */
export async function moveIntoFolder(location: FileLocation, from: string, directory: string, name: string): Promise<string> {
  try {
    await location.move(from, `${directory}/${name}`);
    return `${directory}/${name}`;
  } catch (error) {
    if (!(error instanceof NameTakenError)) throw error;
  }
  // One listing, not a look per name tried: a partner who sends the same name daily fills the folder with them.
  const taken = new Set((await location.list(directory)).map((entry) => entry.name));
  let n = 2;
  while (taken.has(numbered(name, n))) n++;
  const to = `${directory}/${numbered(name, n)}`;
  await location.move(from, to);
  return to;
}

/** `name` with ` (n)` before its extensions: `changes-4.csv.gz` as `changes-4 (2).csv.gz` (a leading dot is no extension). */
export function numbered(name: string, n: number): string {
  const dot = name.indexOf('.', 1);
  return dot < 0 ? `${name} (${n})` : `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

/** Why a rename failed, in a few words (the servers' own messages name their absolute paths, or only say 550). */
function whyMoveFailed(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
  if (code === 'ENOENT' || /no such file|does not exist/i.test(message)) return 'the file or the destination folder is not there (moved or removed meanwhile?)';
  if (code === 'EACCES' || code === 'EPERM' || (error instanceof TransferError && error.reason === 'PermissionDenied')) {
    // The server's words when they add any: vsftpd says 550 for every refusal, OpenSSH names absolute paths (left out).
    const said = message.replace(/^\w+:\/\/[^ ]+: /, '').replace(/^_\w+: /, '').replace(/ From: .*$/, '');
    return /^permission denied$/i.test(said) ? 'permission denied' : `permission denied (the server said: ${said})`;
  }
  return message;
}

/** The warnings of a location's listings: one per file, however often it is listed. */
class SkippedNames {
  private readonly lines = new Map<string, string>();

  constructor(private readonly what: () => string) {}

  add(directory: string, shown: string): void {
    const key = `${directory}\u0000${shown}`;
    const where = directory ? `${directory}/ of ${this.what()}` : this.what();
    if (!this.lines.has(key)) this.lines.set(key, `skipped a file whose name is not valid UTF-8 (shown as ${shown}) in ${where}: ask the partner to rename it`);
  }

  all(): string[] {
    return [...this.lines.values()];
  }
}

/** The SHA-256 of a file's bytes, as `download` streams them. */
async function digestOf(download: (into: Writable) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  await download(sink);
  if (!sink.writableEnded) sink.end();
  await finished(sink);
  return hash.digest('hex');
}

/** `move` for both kinds of location: refuses to replace a different file, and turns every failure into a `MoveError`. */
async function moveWithoutReplacing(location: FileLocation, from: string, to: string, rename: () => Promise<void>): Promise<void> {
  try {
    // The same bytes at `to` (a re-import of a file moved there before, sent again) may be replaced: nothing is lost.
    if (await location.fileExists(to)) {
      // One after the other: an FTP connection carries one transfer at a time.
      const there = await digestOf((into) => location.download(to, into));
      if (there !== (await digestOf((into) => location.download(from, into)))) throw new NameTakenError(from, to, location.what);
    }
    await rename();
  } catch (error) {
    if (error instanceof MoveError) throw error;
    throw new MoveError(from, to, location.what, whyMoveFailed(error), { cause: error });
  }
}

class LocalDirectory implements FileLocation {
  private readonly skipped = new SkippedNames(() => this.what);

  constructor(private readonly root: string) {}

  get what(): string {
    return `directory ${this.root}`;
  }

  async list(directory: string): Promise<RemoteEntry[]> {
    const path = join(this.root, directory);
    let names: Buffer[];
    try {
      // As bytes: a name that is not UTF-8 read as a string is changed (U+FFFD), and no file has that name.
      names = await readdir(path, { encoding: 'buffer' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: RemoteEntry[] = [];
    for (const bytes of names) {
      const shown = escapedIfInvalid(bytes);
      const info = await stat(Buffer.concat([Buffer.from(`${path}/`), bytes])).catch(() => undefined);
      if (!info?.isFile()) continue;
      if (shown === undefined) entries.push({ name: bytes.toString('utf8'), size: info.size, modifiedAt: info.mtime });
      else this.skipped.add(directory, shown);
    }
    return entries;
  }

  warnings(): string[] {
    return this.skipped.all();
  }

  async download(path: string, into: Writable): Promise<void> {
    await pipeline(createReadStream(join(this.root, path)), into);
  }

  move(from: string, to: string): Promise<void> {
    return moveWithoutReplacing(this, from, to, async () => {
      await mkdir(dirname(join(this.root, to)), { recursive: true });
      await rename(join(this.root, from), join(this.root, to));
    });
  }

  async fileExists(path: string): Promise<boolean> {
    return (await stat(join(this.root, path)).catch(() => undefined))?.isFile() === true;
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
  private readonly skipped = new SkippedNames(() => this.what);

  constructor(
    private readonly connection: Connection,
    readonly what: string,
    private readonly base: string,
  ) {}

  list(directory: string): Promise<RemoteEntry[]> {
    return this.connection.list(remotePath(this.base, directory), (shown) => this.skipped.add(directory, shown));
  }

  warnings(): string[] {
    return this.skipped.all();
  }

  download(path: string, into: Writable): Promise<void> {
    return this.connection.download(remotePath(this.base, path), into);
  }

  move(from: string, to: string): Promise<void> {
    return moveWithoutReplacing(this, from, to, () => this.connection.move(remotePath(this.base, from), remotePath(this.base, to)));
  }

  /** Opens the file for reading (no listing: processed/ may hold thousands of files, and an FTP listing asks each one's time). */
  fileExists(path: string): Promise<boolean> {
    return this.connection.checkReadable(remotePath(this.base, path)).then(
      () => true,
      () => false,
    );
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
