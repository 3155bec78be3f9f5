import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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

/** What a file name says about its layers: encrypted (.pgp/.gpg/.asc), then compressed (.gz/.zip). */
export function layersOf(name: string, compression: FileCompression): { encrypted: boolean; compression: 'None' | 'Gzip' | 'Zip' } {
  const encrypted = ENCRYPTED.test(name);
  const inner = name.replace(ENCRYPTED, '');
  if (compression !== 'Auto') return { encrypted, compression };
  return { encrypted, compression: /\.gz$/i.test(inner) ? 'Gzip' : /\.zip$/i.test(inner) ? 'Zip' : 'None' };
}

/** Counts and hashes the bytes that pass: the SHA-256 and size of a file as it was downloaded. */
export class Fingerprint extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

async function startsArmored(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString('latin1').trimStart().startsWith('-----BEGIN PGP');
  } finally {
    await handle.close();
  }
}

const toWeb = (stream: Readable) => Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;

/**
 * Decrypts a spooled OpenPGP file into `into`, streaming, and then checks the signature: openpgp
 * verifies once the data has been read, so the caller must not use the output before this resolves.
 */
async function decrypt(path: string, into: Writable[], keys: DecryptionKeys): Promise<void> {
  const armored = await startsArmored(path);
  let message: openpgp.Message<ReadableStream<Uint8Array | string>>;
  try {
    message = armored
      ? await openpgp.readMessage({ armoredMessage: toWeb(createReadStream(path, 'utf8')) as unknown as ReadableStream<string> })
      : await openpgp.readMessage({ binaryMessage: toWeb(createReadStream(path)) });
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

function firstZipEntry(path: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (error, zip) => {
      if (error || !zip) return reject(new InvalidFileError(`corrupt zip archive (${error?.message ?? 'unreadable'})`));
      zip.on('error', (problem: Error) => reject(new InvalidFileError(`corrupt zip archive (${problem.message})`)));
      zip.on('end', () => reject(new InvalidFileError('the zip archive holds no file')));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (problem, stream) => (problem || !stream ? reject(new InvalidFileError(`corrupt zip archive (${problem?.message})`)) : resolve(stream)));
      });
      zip.readEntry();
    });
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
 */
function gunzipAsWritten(plain: string, taps: Transform[]): { sink: Writable; settled: Promise<Error | undefined> } {
  const gunzip = createGunzip({ chunkSize: PIECE });
  let failure: Error | undefined;
  const settled = pipeline([gunzip, ...taps, createWriteStream(plain)]).then(
    () => failure,
    (error: Error) => (failure ??= error),
  );
  const drained = () =>
    new Promise<void>((resolve) => {
      const go = () => {
        gunzip.off('drain', go);
        resolve();
      };
      gunzip.on('drain', go);
      void settled.then(go);
    });
  const sink = new Writable({
    write(piece: Uint8Array, _encoding, done) {
      if (failure || gunzip.destroyed || gunzip.write(piece)) return done();
      void drained().then(() => done());
    },
    final(done) {
      if (!gunzip.destroyed) gunzip.end();
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
 * Turns a spooled file into plain text on disk, streaming every layer (decrypt, then gunzip or
 * unzip), so a large file never sits in memory. Any layer that fails makes the whole file invalid
 * before a single row is read. `work` makes temporary file names. Each layer's input, `raw`
 * included, is removed once the next is written, so the disk holds at most two copies at a time.
 * `see` is shown the plain text's bytes in order as the last layer writes them (a syntax scan rides
 * along instead of reading the file again); `seen` says whether it was (a plain file has no layer).
 */
export async function decodeFile(
  raw: string,
  name: string,
  compression: FileCompression,
  keys: DecryptionKeys | undefined,
  work: (suffix: string) => string,
  see?: (piece: Uint8Array) => void,
): Promise<{ path: string; seen: boolean }> {
  const layers = layersOf(name, compression);
  const tap = (last: boolean) => (see && last ? [watched(see)] : []);
  let current = raw;
  if (layers.encrypted) {
    if (!keys) throw new InvalidFileError('the file is encrypted (.pgp/.gpg/.asc) and spec.source.files.decryption is not set');
    if (layers.compression === 'Gzip') {
      // The decrypted bytes go straight to gunzip (no decrypted file); the decryption's verdict,
      // signature included, comes first, then gunzip's.
      const plain = work('plain');
      const unpack = gunzipAsWritten(plain, tap(true));
      try {
        await decrypt(current, [joined(), unpack.sink], keys);
      } catch (error) {
        // Refused before or while the data flowed: stop gunzip, wait for its file to close.
        unpack.sink.destroy();
        await unpack.settled;
        throw error;
      }
      const failure = await unpack.settled;
      if (failure) throw corruptArchive('Gzip', failure);
      await rm(current, { force: true });
      return { path: plain, seen: see !== undefined };
    }
    const decrypted = work('decrypted');
    await decrypt(current, [joined(), ...tap(layers.compression === 'None'), createWriteStream(decrypted)], keys);
    await rm(current, { force: true });
    current = decrypted;
  }
  if (layers.compression === 'None') return { path: current, seen: layers.encrypted && see !== undefined };
  const plain = work('plain');
  try {
    // zlib's default 16 KiB output chunks triple the cost of a large file; 256 KiB pieces stay small.
    const unpacked = layers.compression === 'Gzip' ? [createReadStream(current, { highWaterMark: PIECE }), createGunzip({ chunkSize: PIECE })] : [await firstZipEntry(current)];
    await pipeline([...unpacked, ...tap(true), createWriteStream(plain)]);
  } catch (error) {
    if (error instanceof InvalidFileError) throw error;
    throw corruptArchive(layers.compression, error as Error);
  }
  await rm(current, { force: true });
  return { path: plain, seen: see !== undefined };
}
