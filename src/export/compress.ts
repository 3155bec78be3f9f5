import { PassThrough, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import yazl from 'yazl';
import type { Compression } from '../api/export-settings.js';

export const COMPRESSION_EXTENSIONS: Record<Compression, string> = { None: '', Gzip: '.gz', Zip: '.zip' };

/**
 * Wraps a plain byte stream in the chosen compression. Zip holds one entry named `entryName`, written
 * with a data descriptor so it streams without knowing the size up front.
 */
export function compressStream(input: Readable, compression: Compression, entryName: string): Readable {
  if (compression === 'None') return input;
  if (compression === 'Gzip') {
    const gzip = createGzip({ level: 6 });
    input.on('error', (error) => gzip.destroy(error));
    return input.pipe(gzip);
  }
  const zip = new yazl.ZipFile();
  const out = new PassThrough();
  input.on('error', (error) => out.destroy(error));
  zip.addReadStream(input, entryName, { mtime: new Date(), mode: 0o100644 });
  zip.end();
  zip.outputStream.on('error', (error: Error) => out.destroy(error));
  return zip.outputStream.pipe(out);
}
