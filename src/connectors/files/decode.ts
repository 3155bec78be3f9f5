import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { crc32, createGunzip } from 'node:zlib';
import * as openpgp from 'openpgp';
import yauzl from 'yauzl';
import type { FileCompression } from '../../api/files.js';

/** A file that cannot be imported at all (wrong key, bad signature, corrupt archive); nothing from it is applied. */
export class InvalidFileError extends Error {}

export interface DecryptionKeys {
  privateKeys: openpgp.PrivateKey[];
  /** The sender's pinned key; with `requireSignature`, files not signed by it are refused. */
  verificationKey?: openpgp.PublicKey;
  requireSignature: boolean;
}

/** The size of the pieces a file is read and decompressed in. */
const PIECE = 1 << 18;

const ENCRYPTED = /\.(pgp|gpg|asc)$/i;

/** The packet tags an OpenPGP message can start with: PKESK, signature, SKESK, one-pass signature, compressed, SED, marker, literal, SEIPD, AEAD. */
const MESSAGE_TAGS = new Set([1, 2, 3, 4, 8, 9, 10, 11, 18, 20]);

/**
 * Whether a file's first bytes are those of an OpenPGP message: an armored one, or a binary one whose
 * first byte is a packet header (bit 7 set) with a message packet's tag, old format or new.
 */
export function looksLikeOpenPgp(head: Buffer): boolean {
  if (head.length === 0) return false;
  const first = head[0];
  if (first & 0x80) return MESSAGE_TAGS.has(first & 0x40 ? first & 0x3f : (first >> 2) & 0x0f);
  return head.toString('latin1').trimStart().startsWith('-----BEGIN PGP MESSAGE-----');
}

/** What a file name says about its layers: encrypted (.pgp/.gpg/.asc), then compressed (.gz/.zip). */
export function layersOf(name: string, compression: FileCompression): { encrypted: boolean; compression: 'None' | 'Gzip' | 'Zip' } {
  const encrypted = ENCRYPTED.test(name);
  const inner = name.replace(ENCRYPTED, '');
  if (compression !== 'Auto') return { encrypted, compression };
  return { encrypted, compression: /\.gz$/i.test(inner) ? 'Gzip' : /\.zip$/i.test(inner) ? 'Zip' : 'None' };
}

/**
 * Where a download is written: counts and hashes its bytes (the SHA-256 and size of the file as it
 * is stored) and hands them on to `bytes`, the stream the file is decoded from as it arrives. Once
 * the decoding is over (`decoded`: done, or refused the file part-way), the rest of the download is
 * still hashed and dropped, so the digest always covers the whole file. A download that breaks off
 * destroys `bytes` with an error: the decoding stops and never takes a cut-off file for a whole one.
 */
export class DownloadFeed extends Writable {
  /** The downloaded bytes, in order, for the decoding to read. */
  readonly bytes = new PassThrough({ highWaterMark: PIECE });
  private readonly hash = createHash('sha256');
  private decodingOver = false;
  private wake?: () => void;
  size = 0;

  constructor() {
    super({ highWaterMark: PIECE });
    // The download's own failure is reported by the download; the decoding only has to stop.
    this.bytes.on('error', () => {});
    this.bytes.on('drain', () => this.wake?.());
    this.bytes.on('close', () => this.wake?.());
  }

  /** The decoding of `bytes` is over (`decoding` settled): the rest of the download is hashed only. */
  decoded(decoding: Promise<unknown>): void {
    const over = () => {
      this.decodingOver = true;
      this.bytes.destroy();
      this.wake?.();
    };
    decoding.then(over, over);
  }

  private get handing(): boolean {
    return !this.decodingOver && !this.bytes.destroyed;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (!this.handing || this.bytes.write(chunk)) return done();
    this.wake = () => {
      if (this.handing && this.bytes.writableNeedDrain) return;
      this.wake = undefined;
      done();
    };
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.handing) this.bytes.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.writableFinished) this.bytes.destroy(error ?? new Error('the download broke off before the end of the file'));
    this.wake = undefined;
    done(error);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * The first `count` bytes of `stream` (fewer if it is shorter) and a stream of all its bytes, those
 * included; `stream` must not be read elsewhere meanwhile.
 */
async function peek(stream: Readable, count: number): Promise<{ head: Buffer; whole: Readable }> {
  const pieces: Buffer[] = [];
  let bytes = 0;
  while (bytes < count) {
    const piece = stream.read() as Buffer | null;
    if (piece !== null) {
      pieces.push(piece);
      bytes += piece.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    await new Promise<void>((resolve) => {
      const go = () => {
        for (const event of ['readable', 'end', 'close', 'error']) stream.off(event, go);
        resolve();
      };
      for (const event of ['readable', 'end', 'close', 'error']) stream.once(event, go);
    });
  }
  const head = Buffer.concat(pieces, bytes);
  if (stream.readableEnded) return { head, whole: Readable.from(bytes > 0 ? [head] : []) };
  if (bytes > 0 && !stream.destroyed) stream.unshift(head);
  return { head, whole: stream };
}

const toWeb = (stream: Readable) => Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;

/**
 * Decrypts an OpenPGP file's bytes into `into`, streaming, and then checks the signature: openpgp
 * verifies once the data has been read, so the caller must not use the output before this resolves.
 */
async function decrypt(source: Readable, into: Writable[], keys: DecryptionKeys): Promise<void> {
  const { head, whole } = await peek(source, 64);
  const armored = head.toString('latin1').trimStart().startsWith('-----BEGIN PGP');
  let message: openpgp.Message<ReadableStream<Uint8Array | string>>;
  try {
    message = armored
      ? await openpgp.readMessage({ armoredMessage: toWeb(whole.setEncoding('utf8')) as unknown as ReadableStream<string> })
      : await openpgp.readMessage({ binaryMessage: toWeb(whole) });
  } catch (error) {
    throw new InvalidFileError(`not an OpenPGP message (${(error as Error).message})`);
  }
  let result;
  try {
    result = await openpgp.decrypt({
      message,
      decryptionKeys: keys.privateKeys,
      ...(keys.verificationKey ? { verificationKeys: keys.verificationKey } : {}),
      format: 'binary',
      // openpgp would otherwise hold a whole non-AEAD message in memory until its integrity check
      // at the end. Nothing reads the output file before this function returns, and a failed check
      // fails the stream, so the file is refused and its plain text never parsed.
      config: { allowUnauthenticatedStream: true },
    });
    await pipeline([Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>), ...into]);
  } catch (error) {
    throw new InvalidFileError(`cannot decrypt (${(error as Error).message.replace(/^Error decrypting message: /, '')})`);
  }
  if (!keys.verificationKey) return;
  const verdicts = await Promise.all(
    result.signatures.map(async (signature) => {
      try {
        return await signature.verified;
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  const valid = verdicts.some((v) => v === true);
  if (keys.requireSignature && !valid) {
    const why = verdicts.length === 0 ? 'the file is not signed' : `no valid signature by the pinned key (${verdicts.filter((v) => v !== true).join('; ')})`;
    throw new InvalidFileError(`signature required: ${why}`);
  }
}

/** Entries a zip tool adds beside the file: directories, and macOS Finder's resource forks. */
const besideTheFile = (name: string) => name.endsWith('/') || name.startsWith('__MACOSX/');

/**
 * The one file of the zip archive at `path`, as a stream of its bytes (closing the archive when it
 * ends). An archive of several files is refused: reading one and dropping the others would lose rows
 * without a word. yauzl does not check an entry's CRC-32: `crc` is the one the archive gives it.
 */
function onlyZipEntry(path: string): Promise<{ name: string; stream: Readable; crc: number }> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => {
      if (error || !zip) return reject(new InvalidFileError(`corrupt zip archive (${error?.message ?? 'unreadable'})`));
      let open = true;
      const close = () => {
        if (open) zip.close();
        open = false;
      };
      const refuse = (problem: InvalidFileError) => {
        close();
        reject(problem);
      };
      // The first file, and the names of the first few (an archive of a million entries is not kept whole).
      let first: yauzl.Entry | undefined;
      let files = 0;
      const names: string[] = [];
      zip.on('error', (problem: Error) => refuse(new InvalidFileError(`corrupt zip archive (${problem.message})`)));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!besideTheFile(entry.fileName)) {
          first ??= entry;
          if (++files <= 5) names.push(entry.fileName);
        }
        zip.readEntry();
      });
      zip.on('end', () => {
        if (!first) return refuse(new InvalidFileError('the zip archive holds no file'));
        if (files > 1) return refuse(new InvalidFileError(`the zip archive holds ${files} files (${names.join(', ')}${files > names.length ? ', ...' : ''}); it must hold one`));
        const entry = first;
        zip.openReadStream(entry, (problem, stream) => {
          if (problem || !stream) return refuse(new InvalidFileError(`corrupt zip archive (${problem?.message})`));
          stream.once('close', close);
          resolve({ name: entry.fileName, stream, crc: entry.crc32 });
        });
      });
      zip.readEntry();
    });
  });
}

/** Passes the bytes on unchanged and fails at their end when their CRC-32 is not `expected`. */
function crcChecked(expected: number): Transform {
  let crc = 0;
  return new Transform({
    transform(piece: Buffer, _encoding, done) {
      crc = crc32(piece, crc);
      done(null, piece);
    },
    flush(done) {
      done(crc === expected >>> 0 ? null : new Error(`CRC-32 mismatch: the file's bytes are not those zipped`));
    },
  });
}

/** Passes the bytes on unchanged, showing each piece to `see` first. */
function watched(see: (piece: Uint8Array) => void): Transform {
  return new Transform({
    transform(piece: Buffer, _encoding, done) {
      see(piece);
      done(null, piece);
    },
  });
}

/** Passes the bytes on in pieces of about PIECE: openpgp hands out ~4 KiB ones, one write, zlib call or scan step each. */
function joined(): Transform {
  let held: Buffer[] = [];
  let bytes = 0;
  const flush = (push: (piece: Buffer) => void) => {
    if (bytes > 0) push(Buffer.concat(held, bytes));
    held = [];
    bytes = 0;
  };
  return new Transform({
    transform(piece: Buffer, _encoding, done) {
      held.push(piece);
      bytes += piece.length;
      if (bytes >= PIECE) flush((whole) => this.push(whole));
      done();
    },
    flush(done) {
      flush((whole) => this.push(whole));
      done();
    },
  });
}

/**
 * Gunzips bytes as they are written to `sink` into the file `plain` (through `taps`), so that
 * decryption and gunzip run side by side. A gunzip (or write) failure does not fail the sink: the
 * rest of the input is drained and the failure held in `settled`, so that the decryption's own
 * verdict (a tampered stream, a bad signature) is heard before "corrupt gzip".
 *
 * openpgp hands out ~4 KiB pieces: they are copied into pieces of PIECE, one zlib call each, in two
 * buffers taken in turn. A buffer is filled again only once gunzip has called back for its last
 * write (zlib reads it until then), so the decryption waits for gunzip there, and no Buffer is
 * allocated per piece (~16 MB for a 1M-row file, and the mark-compacts such Buffers bring).
 */
function gunzipAsWritten(plain: string, taps: Transform[]): { sink: Writable; settled: Promise<Error | undefined> } {
  const gunzip = createGunzip({ chunkSize: PIECE });
  let failure: Error | undefined;
  let over = false;
  const settled = pipeline([gunzip, ...taps, createWriteStream(plain)]).then(
    () => failure,
    (error: Error) => (failure ??= error),
  );
  void settled.then(() => (over = true));
  const free: Buffer[] = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
  let freed: (() => void) | undefined;
  const release = (buffer: Buffer) => () => {
    free.push(buffer);
    freed?.();
  };
  const gone = () => over || failure !== undefined || gunzip.destroyed;
  /** A buffer to fill: waits for gunzip to hand one back; undefined once gunzip is gone (the rest is dropped). */
  const nextBuffer = async (): Promise<Buffer | undefined> => {
    while (free.length === 0 && !gone()) {
      await new Promise<void>((resolve) => {
        freed = resolve;
        void settled.then(() => resolve());
      });
      freed = undefined;
    }
    return gone() ? undefined : free.pop();
  };
  let filling: Buffer | undefined;
  let filled = 0;
  const send = (length: number) => {
    const buffer = filling!;
    filling = undefined;
    filled = 0;
    gunzip.write(length === PIECE ? buffer : buffer.subarray(0, length), release(buffer));
  };
  const take = async (piece: Uint8Array) => {
    for (let at = 0; at < piece.length; ) {
      filling ??= await nextBuffer();
      if (!filling) return;
      const count = Math.min(piece.length - at, PIECE - filled);
      filling.set(count === piece.length ? piece : piece.subarray(at, at + count), filled);
      filled += count;
      at += count;
      if (filled === PIECE) send(PIECE);
    }
  };
  const sink = new Writable({
    write(piece: Uint8Array, _encoding, done) {
      if (gone()) return done();
      void take(piece).then(() => done());
    },
    final(done) {
      if (!gone()) {
        if (filling && filled > 0) send(filled);
        gunzip.end();
      }
      void settled.then(() => done());
    },
    destroy(error, done) {
      // The decryption failed (or it is over): stop gunzip; the decryption's error is the one reported.
      if (error) failure ??= error;
      gunzip.destroy();
      done(error);
    },
  });
  return { sink, settled };
}

/** The one line for a compressed layer that does not unpack (the same whether or not it was encrypted). */
function corruptArchive(compression: 'Gzip' | 'Zip', error: Error): InvalidFileError {
  return new InvalidFileError(`corrupt ${compression === 'Gzip' ? 'gzip' : 'zip'} data (${error.message})`);
}

/**
 * Turns a file's bytes, as they come (`source`: the download), into plain text on disk, streaming
 * every layer (decrypt, then gunzip or unzip), so a large file never sits in memory. Any layer that
 * fails makes the whole file invalid before a single row is read. `work` makes temporary file names.
 * Only a zip archive is spooled whole first (it is read from its end); each layer's file is removed
 * once the next is written, so the disk holds at most two copies at a time. `see` is shown the plain
 * text's bytes in order as they are written (a syntax scan rides along instead of reading the file
 * again). The result means nothing unless `source` ended with the whole file: the caller checks.
 * With `keys`, every file must be an OpenPGP message, told by its first bytes whatever its name.
 */
export async function decodeFile(
  source: Readable,
  name: string,
  compression: FileCompression,
  keys: DecryptionKeys | undefined,
  work: (suffix: string) => string,
  see?: (piece: Uint8Array) => void,
): Promise<{ path: string }> {
  const layers = layersOf(name, compression);
  const tap = (last: boolean) => (see && last ? [watched(see)] : []);
  if (keys && !layers.encrypted) {
    // With decryption set, the content decides, not the name: a plain (or only compressed) file
    // dropped under a name the pattern matches must not skip the decryption and its signature check.
    const { head, whole } = await peek(source, 64);
    if (!looksLikeOpenPgp(head)) {
      if (source.errored) throw source.errored;
      throw new InvalidFileError(
        keys.requireSignature ? 'signature required: the file is not an OpenPGP message' : 'encryption required: the file is not an OpenPGP message (spec.source.files.decryption is set)',
      );
    }
    source = whole;
    layers.encrypted = true;
  }
  if (layers.encrypted) {
    if (!keys) throw new InvalidFileError('the file is encrypted (.pgp/.gpg/.asc) and spec.source.files.decryption is not set');
    if (layers.compression === 'Gzip') {
      // The decrypted bytes go straight to gunzip (no decrypted file); the decryption's verdict,
      // signature included, comes first, then gunzip's.
      const plain = work('plain');
      const unpack = gunzipAsWritten(plain, tap(true));
      try {
        await decrypt(source, [unpack.sink], keys);
      } catch (error) {
        // Refused before or while the data flowed: stop gunzip, wait for its file to close.
        unpack.sink.destroy();
        await unpack.settled;
        throw error;
      }
      const failure = await unpack.settled;
      if (failure) throw corruptArchive('Gzip', failure);
      return { path: plain };
    }
    // Plain text, or a zip archive spooled whole for yauzl.
    const decrypted = work(layers.compression === 'None' ? 'plain' : 'zip');
    await decrypt(source, [joined(), ...tap(layers.compression === 'None'), createWriteStream(decrypted)], keys);
    if (layers.compression === 'None') return { path: decrypted };
    return { path: await unzipped(decrypted, work, tap(true)) };
  }
  if (layers.compression === 'Zip') {
    const spooled = work('zip');
    await pipeline(source, createWriteStream(spooled));
    return { path: await unzipped(spooled, work, tap(true)) };
  }
  const plain = work('plain');
  try {
    // zlib's default 16 KiB output chunks triple the cost of a large file; 256 KiB pieces stay small.
    await pipeline([source, ...(layers.compression === 'Gzip' ? [createGunzip({ chunkSize: PIECE })] : []), ...tap(true), createWriteStream(plain)]);
  } catch (error) {
    if (layers.compression === 'None') throw error;
    throw corruptArchive(layers.compression, error as Error);
  }
  return { path: plain };
}

/**
 * The one file of the zip archive `archive` (removed once read) written to a plain file, through
 * `taps`; a `.gz` file in it is gunzipped on the way.
 */
async function unzipped(archive: string, work: (suffix: string) => string, taps: Transform[]): Promise<string> {
  const plain = work('plain');
  const { name, stream, crc } = await onlyZipEntry(archive);
  const gzipped = /\.gz$/i.test(name);
  const checked = crcChecked(crc);
  let zipFailed = false;
  for (const zipPart of [stream, checked]) zipPart.once('error', () => (zipFailed = true));
  try {
    await pipeline([stream, checked, ...(gzipped ? [createGunzip({ chunkSize: PIECE })] : []), ...taps, createWriteStream(plain)]);
  } catch (error) {
    if (error instanceof InvalidFileError) throw error;
    // A failure of the zip entry's own stream (inflate, CRC) is the archive's; gunzip's the gzip file's.
    throw corruptArchive(gzipped && !zipFailed ? 'Gzip' : 'Zip', error as Error);
  }
  await rm(archive, { force: true });
  return plain;
}
