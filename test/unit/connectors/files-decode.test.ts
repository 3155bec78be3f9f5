import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile, DownloadFeed, looksLikeOpenPgp } from '../../../src/connectors/files/decode.js';
import { zipOf } from '../../integration/files/files-source.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const work = (suffix: string) => join(dir, `${++files}.${suffix}`);

const PLAIN = Buffer.from(Array.from({ length: 20000 }, (_, i) => `${i},"Person ${i}, Jr.",p${i}@example.org\n`).join(''));

/** Decodes `bytes` read as a stream under `name`, collecting what `see` was shown. */
async function decode(name: string, bytes: Uint8Array, keys?: Parameters<typeof decodeFile>[3]) {
  const raw = work('raw');
  writeFileSync(raw, bytes);
  const shown: Buffer[] = [];
  const { path } = await decodeFile(createReadStream(raw), name, 'Auto', keys, work, (piece) => shown.push(Buffer.from(piece)));
  return { plain: readFileSync(path), shown: Buffer.concat(shown) };
}

describe('decodeFile shows the plain text to a scan as its last layer writes it', () => {
  it('gzip: every byte of the plain file, in order', async () => {
    const { plain, shown } = await decode('e.csv.gz', gzipSync(PLAIN));
    expect(plain.equals(PLAIN)).toBe(true);
    expect(shown.equals(PLAIN)).toBe(true);
  });

  it('OpenPGP, with and without gzip inside: every byte of the plain file, in order', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'p@example.org' }], format: 'object' });
    const keys = { privateKeys: [privateKey], verificationKey: publicKey, requireSignature: true };
    for (const [name, inner] of [['e.csv.gz.pgp', gzipSync(PLAIN)], ['e.csv.pgp', PLAIN]] as const) {
      const message = await openpgp.createMessage({ binary: inner });
      const encrypted = await openpgp.encrypt({ message, encryptionKeys: publicKey, signingKeys: privateKey, format: 'binary' });
      const { plain, shown } = await decode(name, encrypted as Uint8Array, keys);
      expect([name, plain.equals(PLAIN), shown.equals(PLAIN)]).toEqual([name, true, true]);
    }
  });

  it('a plain file is shown as it is written from the download (no second read of it)', async () => {
    const { plain, shown } = await decode('e.csv', PLAIN);
    expect([plain.equals(PLAIN), shown.equals(PLAIN)]).toEqual([true, true]);
  });
});

describe('an encrypted .gz file is gunzipped as it is decrypted, and the decryption is heard first', () => {
  const setup = (async () => {
    const ours = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'p@example.org' }], format: 'object' });
    const stranger = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 's@example.org' }], format: 'object' });
    const keys = { privateKeys: [ours.privateKey], verificationKey: ours.publicKey, requireSignature: true };
    const encrypt = async (inner: Uint8Array, signer = ours.privateKey) =>
      Buffer.from((await openpgp.encrypt({ message: await openpgp.createMessage({ binary: inner }), encryptionKeys: ours.publicKey, signingKeys: signer, format: 'binary' })) as Uint8Array);
    return { keys, encrypt, stranger: stranger.privateKey };
  })();
  const failure = (name: string, bytes: Uint8Array, keys?: Parameters<typeof decodeFile>[3]) => decode(name, bytes, keys).then(() => 'decoded', (error: Error) => error.message);
  // Rows that do not repeat, so that the gzip data is long (~4 MB: many pieces go to gunzip before
  // the integrity check at the end) and an altered byte breaks it.
  const NOISY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i},${((i * 2654435761) >>> 0).toString(36)},${Math.sin(i)}\n`).join(''));

  it('an encrypted gzip of many pieces (its decrypted bytes go to gunzip through two reused buffers): every byte of the plain file, in order', async () => {
    const { keys, encrypt } = await setup;
    const gzipped = gzipSync(NOISY);
    // Many times two 256 KiB buffers: a buffer refilled before gunzip has read it would garble the text.
    expect(gzipped.length).toBeGreaterThan(8 * (1 << 18));
    const { plain, shown } = await decode('e.csv.gz.pgp', await encrypt(gzipped), keys);
    expect(plain.equals(NOISY)).toBe(true);
    expect(shown.equals(NOISY)).toBe(true);
  });

  it('altered encrypted data: "cannot decrypt", although gunzip fails on the altered text before the integrity check at the end', async () => {
    const { keys, encrypt } = await setup;
    const encrypted = await encrypt(gzipSync(NOISY));
    // Bytes 200-5000 lie in the first deflate blocks (gunzip: "invalid distance too far back" as soon
    // as they reach it); at half the file the text still inflates and only its CRC would be wrong.
    for (const at of [200, 1000, 5000, encrypted.length >> 1]) {
      const altered = Buffer.from(encrypted);
      altered[at] ^= 0x10;
      // Word for word the decryption's own verdict on the same bytes without a gzip layer.
      const verdict = await failure('e.csv.pgp', altered, keys);
      expect([at, verdict]).toEqual([at, expect.stringMatching(/^cannot decrypt \(/)]);
      expect([at, await failure('e.csv.gz.pgp', altered, keys)]).toEqual([at, verdict]);
    }
  });

  it('a corrupt gzip inside an intact, signed message: the same "corrupt gzip data" message as a bare .gz file', async () => {
    const { keys, encrypt } = await setup;
    const whole = gzipSync(NOISY);
    for (const inner of [whole.subarray(0, whole.length >> 1), NOISY, Buffer.alloc(0)]) {
      const bare = await failure('e.csv.gz', inner);
      expect(bare).toMatch(/^corrupt gzip data \(/);
      expect(await failure('e.csv.gz.pgp', await encrypt(inner), keys)).toBe(bare);
    }
  });

  it('refused before any data flows (not OpenPGP, no key for it): the same message as without gzip, and gunzip is stopped', async () => {
    const { keys, encrypt } = await setup;
    const other = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'o@example.org' }], format: 'object' });
    for (const bytes of [gzipSync(NOISY), await encrypt(gzipSync(NOISY))]) {
      const wrongKey = { ...keys, privateKeys: [other.privateKey] };
      const verdict = await failure('e.csv.pgp', bytes, wrongKey);
      expect(verdict).toMatch(/^(cannot decrypt|not an OpenPGP message) \(/);
      expect(await failure('e.csv.gz.pgp', bytes, wrongKey)).toBe(verdict);
    }
  });

  it('a corrupt gzip signed by another key: the signature is refused first', async () => {
    const { keys, encrypt, stranger } = await setup;
    expect(await failure('e.csv.gz.pgp', await encrypt(NOISY, stranger), keys)).toMatch(/^signature required: no valid signature by the pinned key/);
  });
});

describe('with decryption set, the content decides whether a file is an OpenPGP message, not its name', () => {
  const setup = (async () => {
    const ours = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'p@example.org' }], format: 'object' });
    const keys = { privateKeys: [ours.privateKey], verificationKey: ours.publicKey, requireSignature: true };
    const encrypt = async (inner: Uint8Array, armored = false) => {
      const message = await openpgp.createMessage({ binary: inner });
      const options = { message, encryptionKeys: ours.publicKey, signingKeys: ours.privateKey };
      return Buffer.from(armored ? await openpgp.encrypt({ ...options, format: 'armored' }) : ((await openpgp.encrypt({ ...options, format: 'binary' })) as Uint8Array));
    };
    return { keys, encrypt };
  })();
  const failure = (name: string, bytes: Uint8Array, keys?: Parameters<typeof decodeFile>[3]) => decode(name, bytes, keys).then(() => 'decoded', (error: Error) => error.message);
  const BOM = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), PLAIN]);
  const zip = zipOf('e.csv', PLAIN);

  it('a plain, gzip-only, zip-only, BOM-led or empty file under any name is refused at its first bytes when a signature is required', async () => {
    const { keys } = await setup;
    const files: [string, Buffer][] = [
      ['e.csv', PLAIN],
      ['e.csv.gz', gzipSync(PLAIN)],
      ['e.csv.zip', zip],
      ['e.csv', BOM],
      ['e.csv', Buffer.alloc(0)],
      ['e.csv.gz', Buffer.alloc(0)],
    ];
    for (const [name, bytes] of files) {
      expect([name, await failure(name, bytes, keys)]).toEqual([name, 'signature required: the file is not an OpenPGP message']);
    }
  });

  it('without a required signature, a plain file is refused all the same: decryption set means files are encrypted', async () => {
    const { keys } = await setup;
    const optional = { privateKeys: keys.privateKeys, requireSignature: false };
    expect(await failure('e.csv', PLAIN, optional)).toBe('encryption required: the file is not an OpenPGP message (spec.source.files.decryption is set)');
    expect(await failure('e.csv.gz', gzipSync(PLAIN), { ...optional, verificationKey: keys.verificationKey })).toMatch(/^encryption required: the file is not an OpenPGP message/);
  });

  it('a .pgp name over plain or gzip bytes still fails as "not an OpenPGP message (...)"', async () => {
    const { keys } = await setup;
    expect(await failure('e.csv.pgp', PLAIN, keys)).toMatch(/^not an OpenPGP message \(/);
    expect(await failure('e.csv.gz.gpg', gzipSync(PLAIN), keys)).toMatch(/^not an OpenPGP message \(/);
  });

  it('an encrypted and signed file, binary or armored, is decrypted under a name without .pgp (the layers inside by the rest of the name)', async () => {
    const { keys, encrypt } = await setup;
    for (const [name, bytes] of [
      ['e.csv', await encrypt(PLAIN)],
      ['e.csv', await encrypt(PLAIN, true)],
      ['e.csv.gz', await encrypt(gzipSync(PLAIN))],
      ['e.csv.gz', await encrypt(gzipSync(PLAIN), true)],
      ['e.csv.zip', await encrypt(zip)],
    ] as const) {
      const { plain, shown } = await decode(name, bytes, keys);
      expect([name, plain.equals(PLAIN), shown.equals(PLAIN)]).toEqual([name, true, true]);
    }
  });

  it('without decryption set, a plain file is read as before', async () => {
    expect((await decode('e.csv', PLAIN)).plain.equals(PLAIN)).toBe(true);
  });

  it('the first bytes: OpenPGP message packets and armor, not text, BOMs, gzip or zip', () => {
    // 0x85 old-format PKESK, 0xc1 new-format PKESK, 0xa3 old-format compressed, 0xd2 new-format SEIPD.
    for (const first of [0x85, 0x84, 0xc1, 0xc3, 0xa3, 0xd2, 0xcb]) expect([first, looksLikeOpenPgp(Buffer.from([first, 0x01]))]).toEqual([first, true]);
    expect(looksLikeOpenPgp(Buffer.from('\r\n-----BEGIN PGP MESSAGE-----\n'))).toBe(true);
    for (const head of [PLAIN, BOM, gzipSync(PLAIN), zip, Buffer.alloc(0), Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\n'), Buffer.from([0x99, 0x01])]) {
      expect(looksLikeOpenPgp(head.subarray(0, 64))).toBe(false);
    }
  });
});

describe('DownloadFeed: a file is decoded as it downloads, and the digest covers the whole download', () => {
  const NOISY = Buffer.from(Array.from({ length: 100_000 }, (_, i) => `${i},${((i * 2654435761) >>> 0).toString(36)},${Math.sin(i)}\n`).join(''));
  const keysOf = (async () => {
    const ours = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'p@example.org' }], format: 'object' });
    const other = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'o@example.org' }], format: 'object' });
    const encrypt = async (inner: Uint8Array) =>
      Buffer.from((await openpgp.encrypt({ message: await openpgp.createMessage({ binary: inner }), encryptionKeys: ours.publicKey, signingKeys: ours.privateKey, format: 'binary' })) as Uint8Array);
    return { keys: { privateKeys: [ours.privateKey], verificationKey: ours.publicKey, requireSignature: true }, other: other.privateKey, encrypt };
  })();

  /** Writes `bytes` to a feed in 32 KiB pieces as a download would (waiting when told to), stopping after `upTo` bytes with destroy() as a broken download does. */
  async function download(feed: DownloadFeed, bytes: Buffer, upTo = bytes.length): Promise<void> {
    for (let at = 0; at < upTo; at += 32 * 1024) {
      if (!feed.write(bytes.subarray(at, Math.min(at + 32 * 1024, upTo)))) await new Promise((resolve) => feed.once('drain', resolve));
    }
    if (upTo < bytes.length) feed.destroy();
    else await new Promise<void>((resolve) => feed.end(resolve));
  }

  it('a download that breaks off part-way while the layers are decoding: the decoding fails instead of taking the cut-off bytes for a file', async () => {
    const { keys, encrypt } = await keysOf;
    // Plain files only without decryption: with it, they are refused at their first bytes.
    const files: [string, Buffer, typeof keys | undefined][] = [
      ['e.csv.gz.pgp', await encrypt(gzipSync(NOISY)), keys],
      ['e.csv.pgp', await encrypt(NOISY), keys],
      ['e.csv', await encrypt(NOISY), keys],
      ['e.csv.gz', gzipSync(NOISY), undefined],
      ['e.csv', NOISY, undefined],
    ];
    for (const [name, bytes, keysFor] of files) {
      const feed = new DownloadFeed();
      const decoding = decodeFile(feed.bytes, name, 'Auto', keysFor, work).then(
        () => 'decoded',
        (error: Error) => error.message,
      );
      feed.decoded(decoding);
      await download(feed, bytes, bytes.length >> 1);
      expect([name, await decoding]).toEqual([name, expect.stringMatching(/download broke off|premature close/i)]);
    }
  });

  it('a file refused at its start (no key for it) is still downloaded to its end and hashed whole', async () => {
    const { keys, other, encrypt } = await keysOf;
    const bytes = await encrypt(gzipSync(NOISY));
    const feed = new DownloadFeed();
    const decoding = decodeFile(feed.bytes, 'e.csv.gz.pgp', 'Auto', { ...keys, privateKeys: [other] }, work).then(
      () => 'decoded',
      (error: Error) => error.message,
    );
    feed.decoded(decoding);
    await download(feed, bytes);
    expect(await decoding).toMatch(/^cannot decrypt \(/);
    expect([feed.size, feed.digest()]).toEqual([bytes.length, createHash('sha256').update(bytes).digest('hex')]);
  });

  it('a whole download: the plain text, the size and the SHA-256 of the bytes as stored', async () => {
    const { keys, encrypt } = await keysOf;
    const bytes = await encrypt(gzipSync(NOISY));
    const feed = new DownloadFeed();
    const decoding = decodeFile(feed.bytes, 'e.csv.gz.pgp', 'Auto', keys, work);
    feed.decoded(decoding);
    await download(feed, bytes);
    expect(readFileSync((await decoding).path).equals(NOISY)).toBe(true);
    expect([feed.size, feed.digest()]).toEqual([bytes.length, createHash('sha256').update(bytes).digest('hex')]);
  });
});
