import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile } from '../../../src/connectors/files/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-archives-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const work = (suffix: string) => join(dir, `${++files}.${suffix}`);

/** The plain text `bytes` decode to under `name`, or the reason they are refused. */
async function decoded(name: string, bytes: Uint8Array): Promise<string> {
  const raw = work('raw');
  writeFileSync(raw, bytes);
  try {
    const { path } = await decodeFile(createReadStream(raw), name, 'Auto', undefined, work);
    return readFileSync(path, 'latin1');
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

interface Entry {
  name: string;
  content: Buffer;
  /** Stored instead of deflated. */
  stored?: boolean;
  /** Sizes and CRC in a data descriptor after the data (general purpose bit 3), as a zip written to a pipe has them. */
  descriptor?: boolean;
  /** The CRC written for the entry (its true one unless a test breaks it). */
  crc?: number;
}

/** A zip archive of `entries`, written by hand: local headers and data, central directory, end record. */
function zipArchive(entries: Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.stored ? entry.content : deflateRawSync(entry.content);
    const fileName = Buffer.from(entry.name);
    const crc = entry.crc ?? crc32(entry.content);
    const fields = (header: Buffer, at: number, inLocal: boolean) => {
      const hidden = inLocal && entry.descriptor;
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(entry.descriptor ? 8 : 0, at + 2);
      header.writeUInt16LE(entry.stored ? 0 : 8, at + 4);
      header.writeUInt32LE(0, at + 6);
      header.writeUInt32LE(hidden ? 0 : crc, at + 10);
      header.writeUInt32LE(hidden ? 0 : data.length, at + 14);
      header.writeUInt32LE(hidden ? 0 : entry.content.length, at + 18);
      header.writeUInt16LE(fileName.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4, true);
    const descriptor = Buffer.alloc(entry.descriptor ? 16 : 0);
    if (entry.descriptor) {
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(data.length, 8);
      descriptor.writeUInt32LE(entry.content.length, 12);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    fields(central, 6, false);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data, descriptor);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length + descriptor.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CSV = Buffer.from('no;name\n1;Ann\n2;Ben\n');
const OTHER = Buffer.from('no;name\n3;Cid\n');

describe('zip archives', () => {
  it('one file, deflated or stored, with or without a data descriptor: its text', async () => {
    for (const stored of [false, true]) {
      for (const descriptor of [false, true]) {
        expect([stored, descriptor, await decoded('e.csv.zip', zipArchive([{ name: 'e.csv', content: CSV, stored, descriptor }]))]).toEqual([stored, descriptor, CSV.toString()]);
      }
    }
  });

  it('directory entries and macOS resource forks (__MACOSX/) beside the one file are skipped', async () => {
    const zip = zipArchive([
      { name: 'out/', content: Buffer.alloc(0), stored: true },
      { name: 'out/e.csv', content: CSV },
      { name: '__MACOSX/out/._e.csv', content: Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]) },
    ]);
    expect(await decoded('e.csv.zip', zip)).toBe(CSV.toString());
  });

  it('several files: refused, naming them, instead of reading the first and dropping the rest', async () => {
    const zip = zipArchive([
      { name: 'a.csv', content: CSV },
      { name: 'b.csv', content: OTHER },
    ]);
    expect(await decoded('e.csv.zip', zip)).toBe('refused: the zip archive holds 2 files (a.csv, b.csv); it must hold one');
    const many = zipArchive(Array.from({ length: 40 }, (_, i) => ({ name: `f${i}.csv`, content: OTHER, stored: true })));
    expect(await decoded('e.csv.zip', many)).toBe('refused: the zip archive holds 40 files (f0.csv, f1.csv, f2.csv, f3.csv, f4.csv, ...); it must hold one');
  });

  it('an empty archive, or one of directories only: refused', async () => {
    expect(await decoded('e.csv.zip', zipArchive([]))).toBe('refused: the zip archive holds no file');
    expect(await decoded('e.csv.zip', zipArchive([{ name: 'out/', content: Buffer.alloc(0), stored: true }]))).toBe('refused: the zip archive holds no file');
  });

  it('a file whose bytes do not match its CRC-32: refused as corrupt, stored or deflated, with or without a descriptor', async () => {
    for (const stored of [false, true]) {
      for (const descriptor of [false, true]) {
        const zip = zipArchive([{ name: 'e.csv', content: CSV, stored, descriptor, crc: crc32(Buffer.from('no;name\n1;Ann\n7;Ben\n')) }]);
        expect([stored, descriptor, await decoded('e.csv.zip', zip)]).toEqual([stored, descriptor, expect.stringMatching(/^refused: corrupt zip data \(CRC-32 mismatch/)]);
      }
    }
  });

  it('a stored file altered after it was zipped (one byte): refused', async () => {
    const zip = zipArchive([{ name: 'e.csv', content: CSV, stored: true }]);
    zip[zip.indexOf('2;Ben')] = '7'.charCodeAt(0);
    expect(await decoded('e.csv.zip', zip)).toMatch(/^refused: corrupt zip data \(CRC-32 mismatch/);
  });

  it('a deflated file whose data does not inflate: refused as corrupt', async () => {
    const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => `${i};${(i * 7919) % 1000}\n`).join(''));
    const zip = zipArchive([{ name: 'e.csv', content }]);
    for (const at of [40, 100, 400]) {
      const altered = Buffer.from(zip);
      altered[at] ^= 0x55;
      expect([at, await decoded('e.csv.zip', altered)]).toEqual([at, expect.stringMatching(/^refused: corrupt zip (data|archive) \(/)]);
    }
  }, 10_000);

  it('a truncated archive: refused', async () => {
    const zip = zipArchive([{ name: 'e.csv', content: CSV }]);
    for (const length of [10, zip.length >> 1, zip.length - 5]) expect(await decoded('e.csv.zip', zip.subarray(0, length))).toMatch(/^refused: corrupt zip archive/);
  });

  it('a .gz file inside the archive is gunzipped (the layers by its name); a corrupt one is refused', async () => {
    expect(await decoded('e.zip', zipArchive([{ name: 'e.csv.gz', content: gzipSync(CSV) }]))).toBe(CSV.toString());
    const cut = gzipSync(CSV).subarray(0, 20);
    expect(await decoded('e.zip', zipArchive([{ name: 'e.csv.gz', content: cut }]))).toMatch(/^refused: corrupt gzip data/);
  });
});

describe('gzip', () => {
  it('concatenated members (gzip a; gzip b; cat): both, in order', async () => {
    expect(await decoded('e.csv.gz', Buffer.concat([gzipSync(CSV), gzipSync(Buffer.from('4;Dee\n'))]))).toBe(`${CSV}4;Dee\n`);
  });

  it('truncated anywhere, or followed by bytes that are no gzip member: refused', async () => {
    const whole = gzipSync(Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i};Person ${i}\n`).join('')));
    for (const length of [5, 30, whole.length >> 1, whole.length - 1]) expect([length, await decoded('e.csv.gz', whole.subarray(0, length))]).toEqual([length, expect.stringMatching(/^refused: corrupt gzip data/)]);
    expect(await decoded('e.csv.gz', Buffer.concat([whole, Buffer.from('trailing garbage')]))).toMatch(/^refused: corrupt gzip data/);
  });
});
