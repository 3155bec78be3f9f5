import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import picomatch from 'picomatch';
import type { FileSource, FilesEndpoint } from '../../api/files.js';
import type { RemoteEntry } from '../../export/transports/types.js';
import { markFileFailed, nextFileId, recordFileMoved, rememberFile, sourceFiles, type SourceFileRecord } from '../../store/source-files.js';
import type { StateDb } from '../../store/state-connection.js';
import { ConfigError, FerryError } from '../../util/errors.js';
import { decodeFile, DownloadFeed, InvalidFileError, type DecryptionKeys } from './decode.js';
import { MoveError, moveIntoFolder, type FileLocation } from './location.js';
import { QuotingScan } from './csv-quotes.js';
import { checkSyntax, dialectOf, emptySnapshotProblem, fileColumnNames } from './parse.js';

/** Names partners use while a file is still being written, and our own dot files. */
export const TEMPORARY = /^\.|\.(part|partial|tmp|temp|filepart|crdownload)$/i;

/** A file's plain text on local disk, held by a reader until `release` (a copy no one holds may be removed). */
export interface PlainFile {
  path: string;
  release(): void;
}

/**
 * A file ready to read: its record (id = its place in the order), checked valid as a whole, and its
 * plain text on local disk (`open`). A file imported again has a new place that is not recorded
 * yet: `replaces` is its recorded one.
 */
export interface ReadyFile {
  record: SourceFileRecord;
  /** The plain text, downloaded and decoded again if its copy was removed meanwhile (copies past the kept bytes are). */
  open(): Promise<PlainFile>;
  /** The plain file's quoting is clean (`checkSyntax`): its records can be read without csv-parse. */
  cleanQuoting: boolean;
  /** The columns its header row names (CSV with a header) or its first object (JSON Lines), read while it was prepared. */
  columns?: string[];
  replaces?: number;
  /** Set when a reader has read the file to its end: the records it held. */
  rows?: number;
}

/** One decoded copy of a file in the scratch directory: its own folder (plain text, and whatever decoding left there). */
interface LocalCopy {
  dir: string;
  path: string;
  /** The folder's bytes once decoded. */
  bytes: number;
  holders: number;
  gone: boolean;
}

/** What an inventory may do: the files to import again, a dry run, the bytes of decoded copies it keeps for later reads. */
export interface InventoryOptions {
  reimport?: string[];
  dryRun?: boolean;
  keptBytes?: number;
}

/** A file's bytes as downloaded (digest, size) and decoded into a copy of its own; `decoded` is the decoding's verdict. */
interface Fetched {
  sha256: string;
  size: number;
  dir: string;
  decoded: PromiseSettledResult<{ path: string }>;
}

export function orderKey(file: FileSource): (entry: RemoteEntry) => string {
  if (file.orderBy === 'Modified') return (e) => `${String(e.modifiedAt.getTime()).padStart(16, '0')}\u0000${e.name}`;
  const capture = file.orderCapture ? new RegExp(file.orderCapture) : undefined;
  return (e) => {
    const part = capture?.exec(e.name)?.[1] ?? e.name;
    return /^\d+$/.test(part) ? `${part.padStart(30, '0')}\u0000${e.name}` : `${part}\u0000${e.name}`;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The location's files, and the names among them whose size or time changed between two looks `settleSeconds` apart (still being written). */
export async function lookTwice(location: FileLocation, endpoint: FilesEndpoint): Promise<{ entries: RemoteEntry[]; changing: Set<string> }> {
  const first = await location.list('');
  const settle = (endpoint.settleSeconds ?? 2) * 1000;
  if (settle === 0) return { entries: first, changing: new Set() };
  await sleep(settle);
  const second = new Map((await location.list('')).map((e) => [e.name, e]));
  const changing = first.filter((e) => {
    const again = second.get(e.name);
    return !again || again.size !== e.size || again.modifiedAt.getTime() !== e.modifiedAt.getTime();
  });
  return { entries: first, changing: new Set(changing.map((e) => e.name)) };
}

/**
 * What a files source holds for one run: the directory listing (taken twice, `settleSeconds`
 * apart, so a file still being written is left for a later run), and per entity the files not
 * imported yet in the order they apply, each downloaded, decoded and checked before any is read.
 * Their decoded copies stay on the scratch disk for the reads while they fit in `keptBytes`; past
 * that, preparing or opening a file removes the oldest copies no reader holds, and a file whose copy
 * was removed is downloaded and decoded again when it comes to be read.
 * A dry run records nothing and touches no file on the server: a bad file is only reported.
 */
export class Inventory {
  private listing?: Promise<RemoteEntry[]>;
  private reimported?: Promise<SourceFileRecord[]>;
  private readonly pending = new Map<string, Promise<ReadyFile[]>>();
  private readonly newest = new Map<string, Promise<ReadyFile | undefined>>();
  /** Decoded copies in the order they were made. */
  private readonly copies: LocalCopy[] = [];
  private readonly reimport: string[];
  private readonly dryRun: boolean;
  private readonly keptBytes: number;
  private readonly work: Promise<string>;
  private temporaries = 0;
  /** A dry run's places in the order, after the flow's recorded ones (nothing is recorded). */
  private dryIds?: Promise<{ next: number }>;

  constructor(
    private readonly location: FileLocation,
    private readonly endpoint: FilesEndpoint,
    private readonly state: StateDb,
    private readonly flow: string,
    private readonly keys: () => Promise<DecryptionKeys | undefined>,
    readonly runId: string,
    options: InventoryOptions = {},
  ) {
    this.reimport = options.reimport ?? [];
    this.dryRun = options.dryRun ?? false;
    this.keptBytes = options.keptBytes ?? Infinity;
    this.work = mkdtemp(join(tmpdir(), 'ferry-files-'));
  }

  /** Files that stayed the same between two looks. */
  settledFiles(): Promise<RemoteEntry[]> {
    this.listing ??= lookTwice(this.location, this.endpoint).then(({ entries, changing }) => entries.filter((e) => !changing.has(e.name)));
    return this.listing;
  }

  /** The entity's files not imported yet, in order; a file that cannot be decoded is recorded failed and fails the run. */
  pendingFiles(entity: string, file: FileSource): Promise<ReadyFile[]> {
    let files = this.pending.get(entity);
    if (!files) this.pending.set(entity, (files = this.findPending(entity, file)));
    return files;
  }

  /**
   * The records of the files named for re-import (`--reimport`), which count as new in this run;
   * they say where each file is now (processed/ after a move). The records stay as they are until
   * the run succeeds (see `ReadyFile.replaces`).
   */
  private reimportedRecords(): Promise<SourceFileRecord[]> {
    this.reimported ??= (async () => {
      const known = await sourceFiles(this.state, this.flow);
      const listed = new Set((await this.settledFiles()).map((e) => e.name));
      for (const name of this.reimport) {
        if (!known.some((k) => k.name === name) && !listed.has(name)) throw new ConfigError(`--reimport ${name}: this flow has seen no file of that name (${this.location.what})`);
      }
      return known.filter((k) => this.reimport.includes(k.name));
    })();
    return this.reimported;
  }

  private async findPending(entity: string, file: FileSource): Promise<ReadyFile[]> {
    const matches = picomatch(file.pattern, { dot: false });
    const again = (await this.reimportedRecords()).filter((k) => k.entity === entity);
    const known = await sourceFiles(this.state, this.flow, entity);
    const seen = (e: RemoteEntry) =>
      !this.reimport.includes(e.name) &&
      known.some((k) => k.name === e.name && k.status !== 'pending' && k.size === e.size && k.modifiedAt.getTime() === e.modifiedAt.getTime());
    const key = orderKey(file);
    const settled = (await this.settledFiles()).filter((e) => matches(e.name) && !TEMPORARY.test(e.name));
    await this.moveImportedLeftBehind(settled.filter(seen), known);
    const listed = settled.filter((e) => !seen(e));
    const candidates: { entry: RemoteEntry; path: string }[] = listed.map((entry) => ({ entry, path: entry.name }));
    // A re-imported file moved away after its import is read where it is now.
    for (const record of again.filter((k) => k.path !== k.name && !listed.some((e) => e.name === k.name))) {
      candidates.push({ entry: { name: record.name, size: record.size, modifiedAt: record.modifiedAt }, path: record.path });
    }
    candidates.sort((a, b) => (key(a.entry) < key(b.entry) ? -1 : key(a.entry) > key(b.entry) ? 1 : 0));
    const ready: ReadyFile[] = [];
    // One at a time: the copies made before are weighed against `keptBytes` as each is prepared (see `dropIdle`).
    for (const { entry, path } of candidates) {
      const prepared = await this.prepare(entity, file, entry, path);
      if (prepared && prepared.record.status === 'pending') ready.push(prepared);
    }
    return ready.sort((a, b) => a.record.id - b.record.id);
  }

  /**
   * Files recorded imported that are still at the location, with `afterImport: Move`: their move to
   * processed/ failed at the end of the run that imported them (that run's error said so), or they
   * were sent again byte for byte. They go to processed/ now; one that still cannot stays for a later
   * run (nothing of it is applied again either way).
   */
  private async moveImportedLeftBehind(seen: RemoteEntry[], known: SourceFileRecord[]): Promise<void> {
    if (this.dryRun || this.endpoint.afterImport !== 'Move') return;
    const processed = this.endpoint.processedDirectory ?? 'processed';
    for (const entry of seen) {
      const record = known.find((k) => k.name === entry.name && k.status === 'imported' && k.path === entry.name);
      if (!record) continue;
      let to: string;
      try {
        to = await moveIntoFolder(this.location, record.path, processed, record.name);
      } catch (error) {
        if (error instanceof MoveError) continue;
        throw error;
      }
      await recordFileMoved(this.state, record.id, to);
    }
  }

  /** The newest imported file of an entity, read again (a snapshot's Full run compares with it when no new file came). */
  newestImported(entity: string, file: FileSource): Promise<ReadyFile | undefined> {
    let found = this.newest.get(entity);
    if (!found) {
      found = (async () => {
        const known = (await sourceFiles(this.state, this.flow, entity)).filter((k) => k.status === 'imported');
        const newest = known[known.length - 1];
        if (!newest) return undefined;
        const entry = { name: newest.name, size: newest.size, modifiedAt: newest.modifiedAt };
        return this.prepare(entity, file, entry, newest.path);
      })();
      this.newest.set(entity, found);
    }
    return found;
  }

  /**
   * Downloads a file and decodes it as it arrives (decryption, gunzip and the quoting scan keep up
   * with the download instead of waiting for it). The file is remembered by the digest of the whole
   * download; a download that fails fails the run with nothing remembered, whatever the decoding of
   * its cut-off bytes said. The decoding's verdict (signature included) is in before this returns.
   */
  private async prepare(entity: string, file: FileSource, entry: RemoteEntry, path: string): Promise<ReadyFile | undefined> {
    const format = file.format ?? 'Csv';
    const dialect = dialectOf(file);
    // A CSV file's quoting is scanned as its last layer is decoded (no second read of the file).
    const scan = format === 'Csv' ? new QuotingScan(dialect.delimiter, dialect.quote) : undefined;
    const fetched = await this.fetch(file, entry.name, path, scan && ((piece) => scan.push(piece)));
    const drop = () => rm(fetched.dir, { recursive: true, force: true });
    let copy: LocalCopy | undefined;
    try {
      const { sha256, decoded } = fetched;
      const earlier = this.reimport.includes(entry.name)
        ? (await sourceFiles(this.state, this.flow, entity)).find((k) => k.name === entry.name && k.sha256 === sha256)
        : undefined;
      const record: SourceFileRecord = earlier
        ? { ...earlier, id: await this.freshId(), status: 'pending', path }
        : await this.remember({ flow: this.flow, entity, name: entry.name, sha256, size: fetched.size, modifiedAt: entry.modifiedAt, path, runId: this.runId });
      if (record.status === 'failed') return undefined;
      try {
        if (decoded.status === 'rejected') throw decoded.reason;
        const plain = decoded.value.path;
        const syntax = await checkSyntax(plain, format, dialect, scan?.verdict());
        if (syntax.problem) throw new InvalidFileError(syntax.problem);
        // Read now, while its copy is on the disk: the run's column check covers every pending file.
        const columns = format === 'JsonLines' || dialect.header ? await fileColumnNames(plain, format, dialect) : undefined;
        const empty = record.status === 'pending' ? await emptySnapshotProblem(plain, file, dialect, syntax.clean) : undefined;
        if (empty) throw new InvalidFileError(empty);
        copy = await this.keep(fetched.dir, plain);
        return this.readyFile(file, path, record, copy, { cleanQuoting: syntax.clean, ...(columns ? { columns } : {}) }, earlier?.id);
      } catch (error) {
        if (!(error instanceof InvalidFileError)) throw error;
        // A file imported again stays remembered as it was; a dry run records and moves nothing.
        const unmoved = !earlier && !this.dryRun ? await this.fail(record, error.message) : '';
        const dry = this.dryRun ? ` (dry run: the file was left where it is${this.endpoint.failedDirectory ? `; a real run moves it to ${this.endpoint.failedDirectory}/` : ''})` : '';
        throw new FerryError(`file ${entry.name} (${this.location.what}) cannot be imported: ${error.message}; nothing from it was applied${dry}${unmoved}`, 1);
      }
    } finally {
      if (!copy) await drop();
    }
  }

  /** A prepared file whose copy, once removed, is made again from the same bytes (a file changed since fails the run). */
  private readyFile(file: FileSource, path: string, record: SourceFileRecord, first: LocalCopy, read: Pick<ReadyFile, 'cleanQuoting' | 'columns'>, replaces?: number): ReadyFile {
    let copy = first;
    const lease = (held: LocalCopy): PlainFile => {
      let released = false;
      return {
        path: held.path,
        release: () => {
          if (released) return;
          released = true;
          held.holders--;
        },
      };
    };
    /** A new copy, held by the reader that asked for it from the start. */
    const again = async (): Promise<LocalCopy> => {
      const fetched = await this.fetch(file, record.name, path);
      try {
        if (fetched.sha256 !== record.sha256) throw new FerryError(`file ${record.name} (${this.location.what}) changed while this run read it; nothing more from it was applied, run again`, 1);
        if (fetched.decoded.status === 'rejected') {
          const reason = fetched.decoded.reason as unknown;
          if (!(reason instanceof InvalidFileError)) throw reason;
          throw new FerryError(`file ${record.name} (${this.location.what}) cannot be imported: ${reason.message}`, 1);
        }
      } catch (error) {
        await rm(fetched.dir, { recursive: true, force: true });
        throw error;
      }
      return this.keep(fetched.dir, fetched.decoded.value.path, 1);
    };
    return {
      record,
      ...read,
      ...(replaces !== undefined ? { replaces } : {}),
      open: async () => {
        // Claimed at once when the copy is there: nothing can remove it between the look and the claim.
        if (!copy.gone) {
          copy.holders++;
          return lease(copy);
        }
        const made = await again();
        copy = made;
        return lease(made);
      },
    };
  }

  /** A decoded copy kept in the scratch space, held by `holders` readers. */
  private async keep(dir: string, path: string, holders = 0): Promise<LocalCopy> {
    const sizes = await Promise.all((await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size));
    const copy: LocalCopy = { dir, path, bytes: sizes.reduce((a, b) => a + b, 0), holders, gone: false };
    this.copies.push(copy);
    return copy;
  }

  /**
   * Removes the oldest copies no reader holds while the copies take more than `keptBytes`: a backlog
   * of files that fits is decoded once; a larger one never sits on the scratch disk at once.
   */
  private async dropIdle(): Promise<void> {
    let kept = this.copies.reduce((sum, c) => sum + c.bytes, 0);
    const dropped: LocalCopy[] = [];
    for (const copy of [...this.copies]) {
      if (kept <= this.keptBytes) break;
      if (copy.holders > 0) continue;
      copy.gone = true;
      this.copies.splice(this.copies.indexOf(copy), 1);
      kept -= copy.bytes;
      dropped.push(copy);
    }
    await Promise.all(dropped.map((c) => rm(c.dir, { recursive: true, force: true })));
  }

  /** Downloads a file and decodes it into a folder of its own, once the copies past `keptBytes` are removed. */
  private async fetch(file: FileSource, name: string, path: string, see?: (piece: Uint8Array) => void): Promise<Fetched> {
    await this.dropIdle();
    const dir = join(await this.work, String(++this.temporaries));
    await mkdir(dir);
    const feed = new DownloadFeed();
    let layer = 0;
    const decoding = this.keys().then((keys) => decodeFile(feed.bytes, name, file.compression ?? 'Auto', keys, (suffix) => join(dir, `${++layer}.${suffix}`), see));
    feed.decoded(decoding);
    const downloading = this.location.download(path, feed).then(
      () => finished(feed),
      (error: unknown) => {
        // Whatever the transport left of the feed, the decoding must stop.
        feed.destroy();
        throw error;
      },
    );
    const [downloaded, decoded] = await Promise.allSettled([downloading, decoding]);
    if (downloaded.status === 'rejected') {
      await rm(dir, { recursive: true, force: true });
      throw downloaded.reason;
    }
    return { sha256: feed.digest(), size: feed.size, dir, decoded };
  }

  /** The file's record: remembered as pending; in a dry run only looked up, or given a place after the flow's recorded files. */
  private async remember(file: Parameters<typeof rememberFile>[1]): Promise<SourceFileRecord> {
    if (!this.dryRun) return rememberFile(this.state, file);
    const known = (await sourceFiles(this.state, this.flow, file.entity)).find((k) => k.name === file.name && k.sha256 === file.sha256);
    if (known) return known;
    const { flow: _flow, runId: _run, ...rest } = file;
    return { ...rest, id: await this.freshId(), status: 'pending', reason: null, importedAt: null, rows: null, firstSeenAt: new Date() };
  }

  /** A fresh place in the order (a dry run draws none from the state database). */
  private async freshId(): Promise<number> {
    if (!this.dryRun) return nextFileId(this.state);
    this.dryIds ??= sourceFiles(this.state, this.flow).then((known) => ({ next: Math.max(0, ...known.map((k) => k.id)) }));
    return ++(await this.dryIds).next;
  }

  /**
   * Records the file failed and moves it to the failed directory, its reason in NAME.reason.txt beside
   * it; a different file of that name failed before keeps its place (and reason file): this one goes to
   * a free name, `NAME (2).csv` (see `moveIntoFolder`). What could not be moved or written is said in the returned words, which the
   * run's one line of error ends with (the file's own reason comes first).
   */
  private async fail(record: SourceFileRecord, reason: string): Promise<string> {
    await markFileFailed(this.state, record.id, reason, this.runId);
    const failed = this.endpoint.failedDirectory;
    if (!failed || record.path !== record.name) return '';
    let to: string;
    try {
      to = await moveIntoFolder(this.location, record.path, failed, record.name);
    } catch (error) {
      if (!(error instanceof MoveError)) throw error;
      return `; moving it to ${error.to} failed: ${error.why}`;
    }
    await recordFileMoved(this.state, record.id, to);
    try {
      await this.location.writeText(`${to}.reason.txt`, `${reason}\n`);
    } catch (error) {
      return `; it was moved to ${to}, but writing ${to}.reason.txt failed: ${(error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')}`;
    }
    return '';
  }

  async close(): Promise<void> {
    await rm(await this.work, { recursive: true, force: true });
  }
}
