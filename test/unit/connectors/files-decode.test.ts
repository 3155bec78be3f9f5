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
