import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile } from '../../../src/connectors/files/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const work = (suffix: string) => join(dir, `${++files}.${suffix}`);

const PLAIN = Buffer.from(Array.from({ length: 20000 }, (_, i) => `${i},"Person ${i}, Jr.",p${i}@example.org\n`).join(''));

/** Decodes `bytes` spooled under `name`, collecting what `see` was shown. */
async function decode(name: string, bytes: Uint8Array, keys?: Parameters<typeof decodeFile>[3]) {
  const raw = work('raw');
  writeFileSync(raw, bytes);
  const shown: Buffer[] = [];
  const { path, seen } = await decodeFile(raw, name, 'Auto', keys, work, (piece) => shown.push(Buffer.from(piece)));
  return { plain: readFileSync(path), seen, shown: Buffer.concat(shown) };
}

describe('decodeFile shows the plain text to a scan as its last layer writes it', () => {
  it('gzip: every byte of the plain file, in order', async () => {
    const { plain, seen, shown } = await decode('e.csv.gz', gzipSync(PLAIN));
    expect(plain.equals(PLAIN)).toBe(true);
    expect(seen).toBe(true);
    expect(shown.equals(PLAIN)).toBe(true);
  });

  it('OpenPGP, with and without gzip inside: every byte of the plain file, in order', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'p@example.org' }], format: 'object' });
    const keys = { privateKeys: [privateKey], verificationKey: publicKey, requireSignature: true };
    for (const [name, inner] of [['e.csv.gz.pgp', gzipSync(PLAIN)], ['e.csv.pgp', PLAIN]] as const) {
      const message = await openpgp.createMessage({ binary: inner });
      const encrypted = await openpgp.encrypt({ message, encryptionKeys: publicKey, signingKeys: privateKey, format: 'binary' });
      const { plain, seen, shown } = await decode(name, encrypted as Uint8Array, keys);
      expect([name, plain.equals(PLAIN), seen, shown.equals(PLAIN)]).toEqual([name, true, true, true]);
    }
  });

  it('a plain file has no layer to show it: seen is false and the caller reads the file itself', async () => {
    const { plain, seen, shown } = await decode('e.csv', PLAIN);
    expect([plain.equals(PLAIN), seen, shown.length]).toEqual([true, false, 0]);
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
